// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/group_reader.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "streamml/common/logging.h"

namespace streamml::data {
namespace {

using std::chrono::milliseconds;

// How long a group read waits for its first assignment on top of the stream
// timeout (joining a group takes seconds).
constexpr std::chrono::seconds kJoinGrace{30};
// commit() retries transient errors this often, backing off from the first
// to the max wait (about 15 s in all).
constexpr int kCommitAttempts = 10;
constexpr milliseconds kCommitFirstBackoff{100};
constexpr milliseconds kCommitMaxBackoff{2000};

}  // namespace

GroupReader::GroupReader(kafka::Consumer& consumer, std::string group, milliseconds poll_timeout,
                         milliseconds stream_timeout)
    : consumer_(consumer), group_(std::move(group)), poll_timeout_(poll_timeout), stream_timeout_(stream_timeout) {}

void GroupReader::start() {
  polled_.clear();
  next_polled_ = 0;
  round_ = Round::kNone;
  last_record_ = Clock::now();
}

RecordReader::Status GroupReader::next(kafka::Message& out, const Limits& limits) {
  while (true) {
    while (next_polled_ < polled_.size()) {
      kafka::Message& m = polled_[next_polled_++];
      if (m.is_eof()) continue;
      if (kafka::KafkaError err = m.error()) {
        if (err.is_fatal()) throw kafka::KafkaException(err.code(), err.message());
        log_warn("dataset: {}", err.message());
        continue;
      }
      last_record_ = Clock::now();
      kafka::TopicPartition tp{m.topic(), m.partition()};
      auto seen = last_seen_.find(tp);
      if (seen != last_seen_.end() && m.offset() > seen->second + 1) {
        // One-offset gaps are transaction markers; more is worth saying.
        log_warn("dataset: offsets {}..{} of {}:{} were not delivered (transaction markers, compaction, or "
                 "records removed by retention)",
                 seen->second + 1, m.offset() - 1, tp.topic, tp.partition);
      }
      last_seen_[tp] = m.offset();
      out = std::move(m);
      return Status::kRecord;
    }
    if (round_ == Round::kHandingOut) {  // the poll's records were all handed out
      round_ = Round::kEnded;
      return Status::kIdle;
    }
    if (round_ == Round::kEnded) {
      // The stream timeout counts from the last record or the last
      // assignment; before the group assigned anything it also allows for the
      // join itself (kJoinGrace).
      auto quiet_since = assigned_at_ ? std::max(last_record_, *assigned_at_) : last_record_ + kJoinGrace;
      if (stream_timeout_.count() >= 0 && Clock::now() - quiet_since >= stream_timeout_) return Status::kEnd;
    }
    milliseconds wait = poll_timeout_;
    if (limits.deadline != Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<milliseconds>(limits.deadline - Clock::now());
      wait = std::max(milliseconds(0), std::min(wait, left));
    }
    polled_ = consumer_.poll_batch(limits.room, wait);
    next_polled_ = 0;
    round_ = Round::kHandingOut;
  }
}

void GroupReader::on_rebalance(kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>&) {
  if (event == kafka::RebalanceEvent::kAssigned) {
    assigned_at_ = Clock::now();  // the stream timeout counts from here
    return;
  }
  // Revoked or lost: nothing to do here. Offsets are committed only by
  // commit(), for records the caller has finished with; records returned
  // but not committed are read again by the next owner (at-least-once).
}

void GroupReader::commit(const std::vector<kafka::TopicPartitionOffset>& offsets) {
  // A transient error (request timed out, coordinator moving or down) must
  // not end a stream that is otherwise fine: retry it, saying so each time.
  const std::string what = "committing offsets of group '" + group_ + "'";
  auto backoff = kCommitFirstBackoff;
  for (int attempt = 1;; ++attempt) {
    kafka::KafkaError err = consumer_.commit(offsets);
    if (!err) return;
    if (err.is_membership_lost()) {
      // The group moved on without this member (its session timed out, e.g.
      // while the coordinator was down): the partitions were revoked and are
      // read again from the last stored commit, by this member after it
      // rejoins or by another one. Nothing is lost (at-least-once).
      log_warn("dataset: {} was refused ({}): the group rebalanced; records returned since the last commit will "
               "be read again",
               what, err.message());
      return;
    }
    if (!err.is_retriable() || attempt >= kCommitAttempts) kafka::throw_if_error(err, what);
    log_warn("dataset: {} failed (attempt {} of {}): {}; retrying in {} ms", what, attempt, kCommitAttempts,
             err.message(), backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kCommitMaxBackoff);
  }
}

}  // namespace streamml::data
