// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/range_reader.h"

#include <algorithm>
#include <string>
#include <utility>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::data {
namespace {

using std::chrono::milliseconds;

constexpr size_t kNoRange = static_cast<size_t>(-1);
constexpr size_t kMessageOverhead = 128;  // librdkafka's per-message bookkeeping, roughly
constexpr size_t kMaxPoll = 1024;         // records per poll
// How often a read that waits for records not produced yet says so.
constexpr std::chrono::seconds kWaitReportInterval{5};

size_t message_bytes(const kafka::Message& m) { return m.value().size() + m.key().size() + kMessageOverhead; }

}  // namespace

RangeReader::RangeReader(kafka::Consumer& consumer, const std::vector<kafka::ResolvedRange>& ranges, Options options)
    : consumer_(consumer), ranges_(ranges), options_(options) {}

void RangeReader::start(BoundedPosition from) {
  reading_ = nullptr;
  planned_ = false;
  position_ = from;
}

RecordReader::Status RangeReader::next(kafka::Message& out, const Limits& /*limits*/) {
  while (true) {
    if (reading_ == nullptr && !enter_range()) {
      end_reads();
      return Status::kEnd;
    }
    Lane& lane = *reading_;
    const kafka::ResolvedRange& r = ranges_[position_.range];
    while (!lane.ahead.empty() && lane.ahead.front().offset() < r.end) {
      kafka::Message m = std::move(lane.ahead.front());
      lane.ahead.pop_front();
      lane.ahead_bytes -= message_bytes(m);
      if (lane.paused && lane.fetch_next < lane.limit && lane.ahead_bytes <= options_.read_ahead_bytes / 2) {
        resume(lane);  // paused for being full, now half read
      }
      if (m.offset() < next_) continue;
      next_ = m.offset() + 1;
      position_.offset = next_;
      out = std::move(m);
      return Status::kRecord;
    }
    // Done when the range's last record was read, or when the lane fetched
    // past the range's end (the offsets left are gaps).
    if (next_ >= r.end || !lane.ahead.empty() || lane.fetch_next >= r.end) {
      leave_range();
      continue;
    }
    if (lane.error) throw_data_loss(r, next_);
    if (fetch(lane, options_.poll_timeout) > 0) {
      waiting_since_.reset();
    } else if (options_.wait_for_records) {
      report_wait(r, next_);
    }
    return Status::kIdle;  // the caller looks for a stop between fetches
  }
}

// Moves to the next range with records to read from position_ on, planning
// the lanes when a pass starts. False after the last pass.
bool RangeReader::enter_range() {
  for (; position_.pass < options_.repeat; ++position_.pass, position_.range = 0, position_.offset = -1) {
    if (!planned_) {
      if (position_.range >= ranges_.size()) continue;
      const int64_t first_start = position_.offset >= 0 ? position_.offset : ranges_[position_.range].start;
      plan_pass(position_.range, first_start);
      planned_ = true;
    }
    for (; position_.range < ranges_.size(); ++position_.range, position_.offset = -1) {
      const kafka::ResolvedRange& r = ranges_[position_.range];
      next_ = position_.offset >= 0 ? position_.offset : r.start;
      position_.offset = next_;
      if (next_ >= r.end) continue;
      Lane& lane = lanes_[lane_of_[position_.range]];
      if (lane.fetch_next < r.end) resume(lane);  // if it was paused for being full
      reading_ = &lane;
      return true;
    }
    planned_ = false;
  }
  return false;
}

void RangeReader::leave_range() {
  Lane& lane = *reading_;
  reading_ = nullptr;
  advance_lane(lane, position_.range);
  ++position_.range;
  position_.offset = -1;
}

void RangeReader::before_handover() {
  if (reading_ != nullptr) drain(*reading_);
}

void RangeReader::end_early() {
  reading_ = nullptr;
  end_reads();
}

// End (exclusive) of the run of contiguous ranges of one partition that
// starts with range k.
int64_t RangeReader::run_end(size_t k) const {
  int64_t end = ranges_[k].end;
  for (size_t n = next_on_lane_[k]; n != kNoRange && ranges_[n].start == end; n = next_on_lane_[n]) {
    end = ranges_[n].end;
  }
  return end;
}

// Lanes for the ranges from `first` on (the first starting at
// `first_start`), each assigned at its first range's start.
void RangeReader::plan_pass(size_t first, int64_t first_start) {
  resume_all();
  lanes_.clear();
  lane_of_.assign(ranges_.size(), kNoRange);
  next_on_lane_.assign(ranges_.size(), kNoRange);
  std::vector<size_t> last_of_lane;
  for (size_t k = first; k < ranges_.size(); ++k) {
    const kafka::ResolvedRange& r = ranges_[k];
    const int64_t start = k == first ? first_start : r.start;
    if (start >= r.end) continue;
    size_t l = 0;
    while (l < lanes_.size() && !(lanes_[l].tp.partition == r.partition && lanes_[l].tp.topic == r.topic)) ++l;
    if (l == lanes_.size()) {
      lanes_.emplace_back();
      lanes_[l].tp = {r.topic, r.partition};
      lanes_[l].fetch_next = start;
      lanes_[l].first = k;
      last_of_lane.push_back(kNoRange);
    } else {
      next_on_lane_[last_of_lane[l]] = k;
    }
    lane_of_[k] = l;
    last_of_lane[l] = k;
  }
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (Lane& lane : lanes_) {
    lane.limit = run_end(lane.first);
    assignment.push_back({lane.tp.topic, lane.tp.partition, lane.fetch_next});
  }
  if (assignment.empty()) {
    consumer_.unassign();
  } else {
    consumer_.assign(assignment);
  }
}

// Resumes every lane this reader paused, before the assignment changes: a
// pause must not outlive it (librdkafka keeps it on the partition).
void RangeReader::resume_all() {
  std::vector<kafka::TopicPartition> paused;
  for (Lane& lane : lanes_) {
    if (lane.paused) paused.push_back(lane.tp);
    lane.paused = false;
  }
  if (!paused.empty()) consumer_.resume(paused, /*wake_leaders=*/false);  // (re)assigned next: nothing to wake
}

void RangeReader::end_reads() {
  resume_all();
  consumer_.unassign();
}

RangeReader::Lane* RangeReader::lane_of_message(const kafka::Message& m) {
  const int32_t partition = m.partition();
  for (Lane& lane : lanes_) {
    if (lane.tp.partition == partition && lane.tp.topic == m.topic_view()) return &lane;
  }
  return nullptr;
}

void RangeReader::pause(Lane& lane) {
  if (lane.paused) return;
  consumer_.pause({lane.tp});
  lane.paused = true;
}

void RangeReader::resume(Lane& lane) {
  if (!lane.paused) return;
  consumer_.resume({lane.tp});
  lane.paused = false;
}

// The lane's run ended with range k: fetch the partition's next range, if
// any, from its start.
void RangeReader::advance_lane(Lane& lane, size_t k) {
  const size_t n = next_on_lane_[k];
  if (n == kNoRange) {
    pause(lane);  // nothing more to read from this partition in the pass
    return;
  }
  if (ranges_[n].start == ranges_[k].end) return;  // the run goes on
  lane.ahead.clear();
  lane.ahead_bytes = 0;
  lane.error.reset();
  lane.fetch_next = ranges_[n].start;
  lane.limit = run_end(n);
  resume(lane);  // then seek: the seek decides where fetching goes on
  if (kafka::KafkaError err = consumer_.seek({lane.tp.topic, lane.tp.partition, lane.fetch_next})) {
    throw kafka::KafkaException(err.code(), "seeking " + lane.tp.topic + ":" + std::to_string(lane.tp.partition) +
                                                " to offset " + std::to_string(lane.fetch_next) + ": " + err.message());
  }
}

// Polls once and files each record in its lane; a lane holding more than
// read_ahead_bytes is paused (the lane being read resumes when it is half
// read). Besides waiting here when the lane being read is empty, the reader
// drains librdkafka's queue without waiting before every batch it hands
// over (before_handover): librdkafka 2.0 stops fetching for up to a second
// once its queue holds queued.min.messages records (however soon they are
// consumed after that), which stalled training from Kafka whenever training
// was slower than the fetching.
// Returns the number of messages polled.
size_t RangeReader::fetch(Lane& reading, milliseconds timeout) {
  int64_t outstanding = 0;  // offsets the unpaused lanes still expect
  for (const Lane& lane : lanes_) {
    if (!lane.paused && !lane.error) outstanding += lane.limit - lane.fetch_next;
  }
  // poll_batch waits for `want` records: never ask for more than can come.
  const size_t want = static_cast<size_t>(std::clamp<int64_t>(outstanding, 1, kMaxPoll));
  std::vector<kafka::Message> polled = consumer_.poll_batch(want, timeout);
  for (auto& m : polled) {
    if (m.is_eof()) continue;
    Lane* lane = lane_of_message(m);
    if (kafka::KafkaError err = m.error()) {
      if (err.is_offset_out_of_range()) {
        Lane& lost = lane ? *lane : reading;
        if (!lost.error) lost.error = err;
        continue;
      }
      if (err.is_fatal()) throw kafka::KafkaException(err.code(), err.message());
      log_warn("dataset: {}", err.message());
      continue;
    }
    // Not ours, or fetched again after a pause.
    if (lane == nullptr || m.offset() < lane->fetch_next) continue;
    if (m.offset() >= lane->limit) {
      // Past the run: whatever was not delivered below the limit does not
      // exist (transaction markers, compaction).
      lane->fetch_next = lane->limit;
      pause(*lane);
      continue;
    }
    lane->fetch_next = m.offset() + 1;
    lane->ahead_bytes += message_bytes(m);
    lane->ahead.push_back(std::move(m));
    // A lane that has every record of its run stops fetching too: otherwise
    // librdkafka keeps asking for more (on the embedded cluster every
    // fetch.wait.max.ms), waking threads that compete with the reader.
    if (lane->ahead_bytes > options_.read_ahead_bytes || lane->fetch_next >= lane->limit) pause(*lane);
  }
  return polled.size();
}

// Files everything librdkafka has fetched so far in the lanes, without
// waiting (see fetch).
void RangeReader::drain(Lane& reading) {
  while (fetch(reading, milliseconds(0)) >= kMaxPoll) {
  }
}

// wait_for_records: says, at most every kWaitReportInterval, which records
// a bounded read is waiting for.
void RangeReader::report_wait(const kafka::ResolvedRange& r, int64_t next) {
  const auto now = Clock::now();
  if (!waiting_since_) {
    waiting_since_ = now;
    last_wait_report_ = now;
    return;
  }
  if (now - last_wait_report_ < kWaitReportInterval) return;
  last_wait_report_ = now;
  const kafka::Watermarks w = consumer_.query_watermarks(r.topic, r.partition);
  log_info("dataset: waiting for records {}..{} of {}:{} (the partition ends at offset {}; {} of the range read; "
           "waiting for {} s)",
           next, r.end - 1, r.topic, r.partition, w.high - 1, next - r.start,
           std::chrono::duration_cast<std::chrono::seconds>(now - *waiting_since_).count());
}

void RangeReader::throw_data_loss(const kafka::ResolvedRange& r, int64_t next) {
  kafka::Watermarks w = consumer_.query_watermarks(r.topic, r.partition);
  throw DataLossError("records " + std::to_string(next) + ".." + std::to_string(std::min(w.low, r.end) - 1) + " of " +
                      r.topic + ":" + std::to_string(r.partition) +
                      " are no longer in the log (the log now starts at offset " + std::to_string(w.low) +
                      "; retention removed them before they were read)");
}

}  // namespace streamml::data
