// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RangeReader: reads bounded ranges (kafka::ResolvedRange) in order, `repeat`
// passes over them, with bounded read-ahead.
//
// Records are returned strictly in range order, but the fetching is not
// serial. At the start of a pass every partition of the ranges still to read
// is assigned at once, each at the start of its first range, so the broker
// serves all of them in each fetch round trip (as a plain consumer of those
// partitions would). Records of a partition whose range has not come yet wait
// in a per-partition lane; a lane fetches a run of contiguous ranges of its
// partition and seeks when the partition's next range starts elsewhere (a
// range given twice, overlapping ranges).
//
// Memory: at most about `read_ahead_bytes` of records per partition (then
// fetching that partition pauses until its range comes, or for the partition
// being read until half of it was read), plus librdkafka's own fetch queue
// (queued.max.messages.kbytes / queued.min.messages, shared by the assigned
// partitions; the reader moves it into the lanes before every batch, see
// before_handover(), so it stays small). A partition whose records were all
// fetched stops fetching.
//
// Offsets a partition does not deliver inside a range (transaction markers,
// compaction) are gaps; a range is complete once a later offset of its
// partition came. Records no longer in the log raise DataLossError.
//
// Thread-safety: none; one thread (the dataset's prefetch thread) uses it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "data/record_reader.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/range_spec.h"

namespace streamml::data {

// Where a bounded read stands: pass over the ranges, range index, next offset
// within that range.
struct BoundedPosition {
  int pass = 0;
  size_t range = 0;
  int64_t offset = -1;  // -1: the range's start
};

class RangeReader final : public RecordReader {
 public:
  struct Options {
    int repeat = 1;                        // passes over the ranges
    std::chrono::milliseconds poll_timeout{100};
    size_t read_ahead_bytes = 16 << 20;    // per partition whose range has not come
    bool wait_for_records = false;         // log progress while waiting for offsets not produced yet
  };

  // `consumer` (assigned by this reader) and `ranges` must outlive it.
  RangeReader(kafka::Consumer& consumer, const std::vector<kafka::ResolvedRange>& ranges, Options options);

  // Starts a read at `from` (an epoch's start, or a restored position).
  void start(BoundedPosition from);
  Status next(kafka::Message& out, const Limits& limits) override;
  // Files what librdkafka fetched meanwhile in the lanes, without waiting
  // (see fetch()).
  void before_handover() override;
  void end_early() override;

  // The position after the last record next() returned.
  const BoundedPosition& position() const { return position_; }

 private:
  // Bounded reads fetch ahead: every partition of the ranges still to read in
  // a pass is assigned at once, and the records of partitions other than the
  // one being read wait in their lane until their range comes. A lane fetches
  // a run of contiguous ranges of its partition ([fetch_next, limit)); when
  // the next range of the partition does not continue where the run ends, the
  // lane seeks there once the run has been read.
  struct Lane {
    kafka::TopicPartition tp;
    std::deque<kafka::Message> ahead;  // fetched, not read yet: increasing offsets below `limit`
    size_t ahead_bytes = 0;            // payload + key bytes (+ kMessageOverhead each) in `ahead`
    int64_t fetch_next = 0;            // every offset below this was fetched (read, in `ahead`, or a gap)
    int64_t limit = 0;                 // end (exclusive) of the contiguous ranges being fetched
    size_t first = 0;                  // the lane's first range in the pass (planning only)
    bool paused = false;               // fetching stopped: `ahead` is full, or the lane is past its limit
    std::optional<kafka::KafkaError> error;  // offset out of range: raised when the reader gets here
  };

  bool enter_range();
  void leave_range();
  int64_t run_end(size_t k) const;
  void plan_pass(size_t first, int64_t first_start);
  void resume_all();
  void end_reads();
  Lane* lane_of_message(const kafka::Message& m);
  void pause(Lane& lane);
  void resume(Lane& lane);
  void advance_lane(Lane& lane, size_t k);
  size_t fetch(Lane& reading, std::chrono::milliseconds timeout);
  void drain(Lane& reading);
  void report_wait(const kafka::ResolvedRange& r, int64_t next);
  [[noreturn]] void throw_data_loss(const kafka::ResolvedRange& r, int64_t next);

  kafka::Consumer& consumer_;
  const std::vector<kafka::ResolvedRange>& ranges_;
  const Options options_;

  std::deque<Lane> lanes_;            // one per partition of the pass (never moved)
  std::vector<size_t> lane_of_;       // per range: its lane (kNoRange: empty range)
  std::vector<size_t> next_on_lane_;  // per range: the next non-empty range of its partition
  Lane* reading_ = nullptr;           // the lane of the range being read
  bool planned_ = false;              // the lanes of position_.pass are planned
  BoundedPosition position_;
  int64_t next_ = 0;                  // next offset to return in the range being read
  std::optional<Clock::time_point> waiting_since_;  // wait_for_records: first empty poll
  Clock::time_point last_wait_report_;              // wait_for_records: last progress line
};

}  // namespace streamml::data
