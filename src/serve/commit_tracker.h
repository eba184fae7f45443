// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// CommitTracker: the offsets whose outputs were acknowledged, per
// partition, and their at-least-once commits. Commits are asynchronous and
// at most every kAsyncCommitInterval, or synchronous when asked; once they
// stop changing, every acknowledged offset is committed once more
// kRecommitDelay after the last commit (see the .cc for why).
//
// Thread-safety: one thread (the consumer's owner, rebalance callbacks
// included) uses it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "streamml/kafka/consumer.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/types.h"

namespace streamml::serve {

// Next offset per partition.
using NextOffsets = std::map<kafka::TopicPartition, int64_t>;
// The entries of a next-offset-per-partition map, as commit() takes them.
std::vector<kafka::TopicPartitionOffset> offsets_of(const NextOffsets& next);

class CommitTracker {
 public:
  // A commit that failed (logged and counted by the caller).
  using CommitFailed = std::function<void(const char* what, const kafka::KafkaError& err)>;

  // `consumer` must outlive the tracker.
  CommitTracker(kafka::Consumer& consumer, CommitFailed commit_failed);

  // Offsets whose outputs were acknowledged. `to_commit`: commit() commits
  // them (at-least-once); otherwise they are only remembered (a transaction
  // committed them).
  void acknowledged(const std::vector<kafka::TopicPartitionOffset>& offsets, bool to_commit);
  // Commits the acknowledged offsets not yet committed: synchronously when
  // `now`, else asynchronously when kAsyncCommitInterval has passed since
  // the last commit; with none, re-commits every acknowledged offset once,
  // kRecommitDelay after the last commit.
  void commit(bool now);
  // Forgets revoked (or lost) partitions; returns their acknowledged
  // offsets.
  std::vector<kafka::TopicPartitionOffset> release(const std::vector<kafka::TopicPartitionOffset>& parts);
  // Commits every acknowledged offset synchronously (nothing when none).
  void commit_all(const char* what);

 private:
  using Clock = std::chrono::steady_clock;
  kafka::Consumer& consumer_;
  const CommitFailed commit_failed_;
  NextOffsets acknowledged_;  // acknowledged (committed or in uncommitted_)
  NextOffsets uncommitted_;   // acknowledged, not yet committed
  Clock::time_point next_async_commit_;
  std::optional<Clock::time_point> recommit_at_;  // see kRecommitDelay
};

}  // namespace streamml::serve
