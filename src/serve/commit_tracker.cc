// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/commit_tracker.h"

#include <utility>

namespace streamml::serve {
namespace {

// At-least-once commits of acknowledged batches are asynchronous and at most
// this frequent (one per micro-batch cost the broker an OffsetCommit per
// millisecond at low load); revocation, stop and failure commit at once.
constexpr auto kAsyncCommitInterval = std::chrono::milliseconds(20);
// Once the commits stop changing, every acknowledged offset is committed
// once more this long after the last commit: an asynchronous commit can be
// lost without librdkafka reporting it (seen with librdkafka 2.0.2 after
// OffsetCommit errors: one partition's later commits never stored), and a
// partition whose records stopped coming would otherwise keep a stale offset
// until the graceful stop's commit (a crash re-serves from it).
constexpr auto kRecommitDelay = std::chrono::seconds(2);

}  // namespace

std::vector<kafka::TopicPartitionOffset> offsets_of(const NextOffsets& next) {
  std::vector<kafka::TopicPartitionOffset> out;
  out.reserve(next.size());
  for (const auto& [tp, off] : next) out.push_back({tp.topic, tp.partition, off});
  return out;
}

CommitTracker::CommitTracker(kafka::Consumer& consumer, CommitFailed commit_failed)
    : consumer_(consumer), commit_failed_(std::move(commit_failed)) {}

void CommitTracker::acknowledged(const std::vector<kafka::TopicPartitionOffset>& offsets, bool to_commit) {
  for (const auto& o : offsets) {
    acknowledged_[{o.topic, o.partition}] = o.offset;
    if (to_commit) uncommitted_[{o.topic, o.partition}] = o.offset;
  }
}

void CommitTracker::commit(bool now) {
  if (!uncommitted_.empty() && (now || Clock::now() >= next_async_commit_)) {
    const std::vector<kafka::TopicPartitionOffset> offsets = offsets_of(uncommitted_);
    uncommitted_.clear();
    next_async_commit_ = Clock::now() + kAsyncCommitInterval;
    recommit_at_ = Clock::now() + kRecommitDelay;
    if (auto err = consumer_.commit(offsets, /*async=*/!now)) commit_failed_("commit", err);
  } else if (uncommitted_.empty() && recommit_at_ && Clock::now() >= *recommit_at_) {
    recommit_at_.reset();
    const std::vector<kafka::TopicPartitionOffset> offsets = offsets_of(acknowledged_);
    if (!offsets.empty()) {
      if (auto err = consumer_.commit(offsets, /*async=*/true)) commit_failed_("commit", err);
    }
  }
}

std::vector<kafka::TopicPartitionOffset> CommitTracker::release(
    const std::vector<kafka::TopicPartitionOffset>& parts) {
  std::vector<kafka::TopicPartitionOffset> out;
  for (const auto& p : parts) {
    kafka::TopicPartition tp{p.topic, p.partition};
    uncommitted_.erase(tp);  // committed by the drain before, or (lost) no longer ours
    auto it = acknowledged_.find(tp);
    if (it != acknowledged_.end()) {
      out.push_back({p.topic, p.partition, it->second});
      acknowledged_.erase(it);  // no longer ours to commit
    }
  }
  return out;
}

void CommitTracker::commit_all(const char* what) {
  if (acknowledged_.empty()) return;
  if (auto err = consumer_.commit(offsets_of(acknowledged_), /*async=*/false)) commit_failed_(what, err);
}

}  // namespace streamml::serve
