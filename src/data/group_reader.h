// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// GroupReader: reads a consumer group's stream (the consumer is subscribed
// by its owner, who forwards the rebalance events to on_rebalance()), and
// commits offsets for it, retrying transient errors.
//
// The stream ends (next() says kEnd) when no record arrived for
// `stream_timeout` (negative: never), counted from the last record or the
// last assignment; before the group assigned anything it also allows for the
// join itself.
//
// Thread-safety: next() and on_rebalance() run on the thread that polls (the
// dataset's prefetch thread); commit() may run on another thread (the
// consumer's commit is thread-safe).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/record_reader.h"
#include "streamml/kafka/consumer.h"

namespace streamml::data {

class GroupReader final : public RecordReader {
 public:
  // `consumer` must outlive the reader; `group` names it in messages.
  GroupReader(kafka::Consumer& consumer, std::string group, std::chrono::milliseconds poll_timeout,
              std::chrono::milliseconds stream_timeout);

  // Starts reading: the stream timeout counts from now.
  void start();
  // A poll asks for at most limits.room records and waits until
  // limits.deadline at most; kIdle after each poll's records.
  Status next(kafka::Message& out, const Limits& limits) override;
  void on_rebalance(kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions);

  // Commits `offsets` synchronously. Transient errors are retried with
  // backoff for about 15 s, each logged as a warning; then, or for a
  // permanent error, throws kafka::KafkaException naming the group. When the
  // group rebalanced without this member the commit is dropped with a
  // warning (the records since the last commit are read again).
  void commit(const std::vector<kafka::TopicPartitionOffset>& offsets);

 private:
  enum class Round { kNone, kHandingOut, kEnded };

  kafka::Consumer& consumer_;
  const std::string group_;
  const std::chrono::milliseconds poll_timeout_;
  const std::chrono::milliseconds stream_timeout_;
  std::vector<kafka::Message> polled_;  // the last poll's records
  size_t next_polled_ = 0;              // the next one to hand out
  Round round_ = Round::kNone;
  Clock::time_point last_record_;
  std::optional<Clock::time_point> assigned_at_;  // last assignment
  std::map<kafka::TopicPartition, int64_t> last_seen_;  // gap detection
};

}  // namespace streamml::data
