// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// OutputSequence: ordered write-back of results to a Kafka topic, the C++
// counterpart of TensorFlow I/O's KafkaOutputSequence. Items are set by index
// (0, 1, 2, ... from `first_index`) in any order, possibly from several
// threads, and are produced strictly in index order: an item whose
// predecessor has not been set yet is held until the gap is filled. Setting
// an index twice, or an index that was already written, is an InputError
// naming the index. Payloads and keys are binary-safe (NUL bytes included).
//
// Each item may carry a key and headers; it goes to the sequence's partition
// (or the item's own), else to the partitioner. The producer is idempotent,
// so records sent to one partition keep their index order. Delivery failures
// are reported by flush().
//
// Thread-safety: set(), flush() and the accessors are safe to call from
// several threads.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include "streamml/kafka/config.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka {
class Producer;
}  // namespace streamml::kafka

namespace streamml::data {

struct OutputSequenceOptions {
  kafka::Config config;                       // bootstrap.servers and any producer property
  std::string topic;                          // destination topic (required)
  int32_t partition = kafka::kPartitionAny;   // every item's partition; kPartitionAny: item's or partitioner
  int64_t first_index = 0;                    // index of the first item (>= 0)
  kafka::milliseconds produce_timeout{30000};  // how long produce may wait for queue space
};

// One item of the sequence.
struct OutputItem {
  std::string value;                          // payload (binary-safe)
  std::optional<std::string> key;             // nullopt: null key
  kafka::Headers headers;                     // record headers
  int32_t partition = kafka::kPartitionAny;   // overrides the partitioner when the sequence has none
};

// What flush() saw.
struct OutputFlushResult {
  int64_t written = 0;    // items handed to Kafka so far (the next index to write minus first_index)
  int64_t delivered = 0;  // items acknowledged by the cluster so far
  int64_t held = 0;       // items set but waiting behind a gap
  int64_t next_index = 0; // the index that must be set before held items can be written
};

class OutputSequence {
 public:
  // Throws ConfigError when the topic is empty, first_index < 0 or the
  // config is invalid; kafka::KafkaException when the producer cannot be created.
  explicit OutputSequence(OutputSequenceOptions options);
  // Flushes for up to kDefaultCloseTimeout; never throws. Items still held
  // behind a gap are logged as lost (a warning naming the gap).
  ~OutputSequence();
  OutputSequence(const OutputSequence&) = delete;
  OutputSequence& operator=(const OutputSequence&) = delete;

  // Sets item `index` and writes every item that is now in order. Throws
  // InputError naming the index when it was set before, lies before
  // first_index, or was already written; kafka::KafkaException when Kafka refuses
  // the record (the item stays held, so a later flush() can report it).
  void set(int64_t index, std::string_view value);
  void set(int64_t index, OutputItem item);

  // Waits until every written item was delivered or failed, for up to
  // `timeout`. Throws kafka::KafkaException naming the topic, the number of failed
  // items and the first failure (index and reason) when a delivery failed,
  // and when items were still undelivered at the timeout. Items held behind
  // a gap are not an error here: they are counted in the result.
  OutputFlushResult flush(kafka::milliseconds timeout = kafka::kDefaultFlushTimeout);

  // The next index to be written (all lower indexes were handed to Kafka).
  int64_t next_index() const;
  // Items set but held behind a gap.
  int64_t held() const;
  const std::string& topic() const { return options_.topic; }

 private:
  void write_ready();  // requires mu_
  void on_delivery_failure(uint64_t index, const std::string& reason);

  OutputSequenceOptions options_;
  std::unique_ptr<kafka::Producer> producer_;
  mutable std::mutex mu_;
  int64_t next_index_ = 0;                  // guarded by mu_
  std::map<int64_t, OutputItem> pending_;   // guarded by mu_: set, not yet written
  mutable std::mutex failure_mu_;
  int64_t failures_ = 0;                    // guarded by failure_mu_
  std::string first_failure_;               // guarded by failure_mu_
};

}  // namespace streamml::data
