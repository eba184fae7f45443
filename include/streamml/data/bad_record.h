// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// What to do with a record that cannot be decoded or is invalid (fails its
// RecordCheck), and the bookkeeping the file/Kafka datasets and the serving
// loop share to report such records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace streamml::data {

enum class BadRecordPolicy {
  kFail,        // stop with an InputError naming the record and the reason
  kSkip,        // count it, keep the first few in a report, go on
  kDeadLetter,  // hand it to a dead-letter sink (topic, callback), count it, go on
};

// Checks one decoded record before a source hands it out: nullopt when it is
// usable, otherwise why not (e.g. "feature 'x' is inf"). A record that fails
// its check is a bad record like an undecodable one: the same policy applies
// and the same report counts it. Called on the thread that decodes.
using RecordCheck =
    std::function<std::optional<std::string>(std::span<const float> features, std::span<const float> labels)>;

// Parses "fail|skip|dead-letter" (also "dead_letter", "dlq"); throws
// ConfigError naming the value and the accepted ones.
BadRecordPolicy parse_bad_record_policy(std::string_view name);
std::string_view to_string(BadRecordPolicy policy);

// One bad record: where it was ("file:line" or "topic:partition:offset") and
// why it was rejected.
struct BadRecord {
  std::string location;
  std::string reason;

  friend bool operator==(const BadRecord&, const BadRecord&) = default;
};

// A snapshot: how many bad records, and the first few of them.
struct BadRecordReport {
  uint64_t count = 0;
  std::vector<BadRecord> examples;  // the first max_examples records, in order

  // "3 bad records; first: f.csv:4: column 'x' ...; ..." or "no bad records".
  std::string summary() const;
};

// Counts bad records and keeps the first `max_examples` of them.
// Thread-safe: add() and report() may be called from several threads.
class BadRecordCounter {
 public:
  static constexpr size_t kDefaultMaxExamples = 10;

  explicit BadRecordCounter(size_t max_examples = kDefaultMaxExamples)
      : max_examples_(max_examples) {}

  void add(std::string location, std::string reason);
  uint64_t count() const;
  BadRecordReport report() const;
  void clear();

 private:
  const size_t max_examples_;
  mutable std::mutex mutex_;
  BadRecordReport report_;  // guarded by mutex_
};

}  // namespace streamml::data
