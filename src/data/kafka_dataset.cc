// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/kafka_dataset.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <span>
#include <sstream>
#include <thread>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/decoder.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/range_spec.h"

namespace streamml::data {
namespace {

using Clock = std::chrono::steady_clock;
using kafka::milliseconds;

// How long a group dataset waits for its first assignment on top of the
// stream timeout (joining a group takes seconds).
constexpr std::chrono::seconds kJoinGrace{30};
// How often a bounded read that waits for records not produced yet says so.
constexpr std::chrono::seconds kWaitReportInterval{5};
// commit() retries transient errors this often, backing off from the first
// to the max wait (about 15 s in all).
constexpr int kCommitAttempts = 10;
constexpr milliseconds kCommitFirstBackoff{100};
constexpr milliseconds kCommitMaxBackoff{2000};

// Moves row `i` of `from` to the end of `to` (same widths); `from` loses it
// by swapping in its last row.
void move_row(Batch& from, size_t i, Batch& to) {
  const size_t f = from.num_features, l = from.num_labels, last = from.size - 1;
  to.features.insert(to.features.end(), from.features.begin() + i * f, from.features.begin() + (i + 1) * f);
  to.labels.insert(to.labels.end(), from.labels.begin() + i * l, from.labels.begin() + (i + 1) * l);
  to.meta.push_back(std::move(from.meta[i]));
  if (!from.payloads.empty()) to.payloads.push_back(std::move(from.payloads[i]));
  ++to.size;
  if (i != last) {
    std::copy(from.features.begin() + last * f, from.features.begin() + (last + 1) * f, from.features.begin() + i * f);
    std::copy(from.labels.begin() + last * l, from.labels.begin() + (last + 1) * l, from.labels.begin() + i * l);
    from.meta[i] = std::move(from.meta[last]);
    if (!from.payloads.empty()) from.payloads[i] = std::move(from.payloads[last]);
  }
  from.features.resize(last * f);
  from.labels.resize(last * l);
  from.meta.pop_back();
  if (!from.payloads.empty()) from.payloads.pop_back();
  from.size = last;
}

// Where the bounded reader stands: pass over the ranges, range index, next
// offset within that range.
struct BoundedPosition {
  int pass = 0;
  size_t range = 0;
  int64_t offset = -1;  // -1: the range's start
};

// What the prefetch thread hands to next(): a batch (or the end of the
// epoch) and the read position after its last record.
struct Item {
  std::optional<Batch> batch;  // nullopt: end of epoch
  std::map<kafka::TopicPartition, int64_t> consumed;  // next offset per partition
  BoundedPosition position;
};

// Bounded reads fetch ahead: every partition of the ranges still to read in
// a pass is assigned at once, and the records of partitions other than the
// one being read wait in their lane until their range comes. A lane fetches
// a run of contiguous ranges of its partition ([fetch_next, limit)); when the
// next range of the partition does not continue where the run ends, the lane
// seeks there once the run has been read.
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

constexpr size_t kNoRange = static_cast<size_t>(-1);
constexpr size_t kMessageOverhead = 128;  // librdkafka's per-message bookkeeping, roughly
constexpr size_t kMaxPoll = 1024;         // records per poll
constexpr size_t kMaxReservedRows = 4096;  // rows reserved up front in a batch
constexpr int kQueuedMinMessages = 1000000;  // librdkafka's queued.min.messages default here (see the constructor)

size_t message_bytes(const kafka::Message& m) { return m.value().size() + m.key().size() + kMessageOverhead; }

// A non-negative decimal of a saved state, or nullopt.
std::optional<int64_t> parse_state_number(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

struct KafkaDataset::Impl {
  KafkaDatasetOptions options;
  std::unique_ptr<Decoder> decoder;
  bool group_mode = false;
  bool keep_payloads = false;
  std::vector<kafka::ResolvedRange> ranges;
  std::unique_ptr<kafka::Consumer> consumer;
  std::unique_ptr<DeadLetterProducer> dead_letters;
  BadRecordCounter bad;

  // Prefetch queue.
  std::mutex mu;
  std::condition_variable not_full, not_empty;
  std::deque<Item> queue;          // guarded by mu
  std::exception_ptr error;        // guarded by mu
  bool stop = false;               // guarded by mu
  std::thread thread;
  std::atomic<bool> interrupted{false};  // interrupt(): any thread or a signal handler
  bool running = false;            // caller thread only
  bool epoch_done = false;         // caller thread only
  int epoch = 0;

  // Caller-side progress.
  mutable std::mutex returned_mu;  // the rebalance callback reads `returned`
  std::map<kafka::TopicPartition, int64_t> returned;  // guarded by returned_mu
  BoundedPosition returned_position;
  BoundedPosition start_position;  // where the next epoch starts (restore())
  uint64_t returned_count = 0;
  std::vector<kafka::TopicPartitionOffset> restore_offsets;  // group restore

  // Prefetch-thread state.
  Batch current;
  Batch pool;  // shuffle buffer
  std::mt19937_64 rng;
  int64_t taken = 0;
  std::map<kafka::TopicPartition, int64_t> consumed;
  std::map<kafka::TopicPartition, int64_t>::iterator consumed_last = consumed.end();  // of the last record
  std::map<kafka::TopicPartition, int64_t> last_seen;  // group mode gap detection
  std::deque<Lane> lanes;             // bounded read-ahead, one per partition of the pass (never moved)
  std::vector<size_t> lane_of;        // per range: its lane (kNoRange: empty range)
  std::vector<size_t> next_on_lane;   // per range: the next non-empty range of its partition
  Lane* reading = nullptr;            // the lane read_range() is reading (bounded)
  BoundedPosition position;
  std::optional<Clock::time_point> assigned_at;  // last assignment (prefetch thread)
  std::optional<Clock::time_point> waiting_since;  // wait_for_records: first empty poll (prefetch thread)
  Clock::time_point last_wait_report;               // wait_for_records: last progress line

  Batch empty_batch() const {
    Batch b;
    b.num_features = decoder ? decoder->num_features() : 0;
    b.num_labels = decoder ? decoder->num_labels() : 0;
    // A batch is filled row by row: size it once instead of growing it.
    const size_t rows = std::min<size_t>(options.batch_size, kMaxReservedRows);
    b.features.reserve(rows * b.num_features);
    b.labels.reserve(rows * b.num_labels);
    b.meta.reserve(rows);
    if (keep_payloads) b.payloads.reserve(rows);
    return b;
  }

  // ---- producer (prefetch thread) side ----
  bool stopping() {
    std::lock_guard<std::mutex> lock(mu);
    return stop;
  }

  // Queue length at which a full queue is refilled: the prefetch thread
  // sleeps until the reader took half the queue, then decodes that half in
  // one go (one wake-up per prefetch/2 batches instead of one per batch:
  // each wake-up may preempt the reader's thread on a busy machine).
  size_t refill_at() const { return options.prefetch / 2; }

  // Blocks while the queue is full (until it is refilled, see refill_at).
  // Returns false when asked to stop.
  bool push(Item item) {
    std::unique_lock<std::mutex> lock(mu);
    if (queue.size() >= options.prefetch) {
      not_full.wait(lock, [&] { return stop || queue.size() <= refill_at(); });
    }
    if (stop) return false;
    queue.push_back(std::move(item));
    not_empty.notify_one();
    return true;
  }

  bool emit(Batch batch) {
    if (options.map) options.map(batch);
    if (reading != nullptr) drain(*reading);
    return push(Item{std::move(batch), consumed, position});
  }

  // The `consumed` entry of a partition; the last one is cached, as records
  // come in runs of one partition.
  int64_t& consumed_slot(std::string_view topic, int32_t partition) {
    if (consumed_last == consumed.end() || consumed_last->first.partition != partition ||
        consumed_last->first.topic != topic) {
      consumed_last = consumed.try_emplace(kafka::TopicPartition{std::string(topic), partition}, 0).first;
    }
    return consumed_last->second;
  }

  // Adds one record; emits a full batch. Returns false to stop.
  bool add(const kafka::Message& m) {
    int64_t& slot = consumed_slot(m.topic_view(), m.partition());
    slot = m.offset() + 1;
    RecordMeta meta = meta_of(m, consumed_last->first.topic);
    Batch& target = options.shuffle_buffer > 0 ? pool : current;
    const size_t f = target.num_features, l = target.num_labels, row = target.size;
    if (decoder) {
      target.features.resize((row + 1) * f);
      target.labels.resize((row + 1) * l);
      std::optional<std::string> reason =
          decoder->decode(m.value(), target.features.data() + row * f, l ? target.labels.data() + row * l : nullptr);
      if (reason) {
        target.features.resize(row * f);
        target.labels.resize(row * l);
        return bad_record(meta, m.value(), *reason, "cannot decode record ");
      }
      if (options.check) {
        std::optional<std::string> invalid = options.check(std::span<const float>(target.features.data() + row * f, f),
                                                           std::span<const float>(target.labels.data() + row * l, l));
        if (invalid) {
          target.features.resize(row * f);
          target.labels.resize(row * l);
          return bad_record(meta, m.value(), *invalid, "invalid record ");
        }
      }
    }
    if (keep_payloads) target.payloads.emplace_back(m.value());
    target.meta.push_back(std::move(meta));
    ++target.size;
    ++taken;
    if (options.shuffle_buffer > 0 && pool.size > options.shuffle_buffer) {
      move_row(pool, std::uniform_int_distribution<size_t>(0, pool.size - 1)(rng), current);
    }
    if (current.size >= options.batch_size) {
      Batch full = std::move(current);
      current = empty_batch();
      return emit(std::move(full));
    }
    return true;
  }

  // `what` starts the kFail message: "cannot decode record " or "invalid record ".
  bool bad_record(const RecordMeta& meta, std::string_view payload, const std::string& reason, std::string_view what) {
    switch (options.bad_records) {
      case BadRecordPolicy::kFail:
        throw InputError(std::string(what) + meta.location() + ": " + reason);
      case BadRecordPolicy::kSkip:
        bad.add(meta.location(), reason);
        return true;
      case BadRecordPolicy::kDeadLetter:
        options.dead_letter(meta, payload, reason);
        bad.add(meta.location(), reason);
        return true;
    }
    return true;
  }

  // Flushes the shuffle pool and the partial batch, then the end marker.
  void finish_epoch() {
    while (pool.size > 0) {
      move_row(pool, std::uniform_int_distribution<size_t>(0, pool.size - 1)(rng), current);
      if (current.size >= options.batch_size) {
        Batch full = std::move(current);
        current = empty_batch();
        if (!emit(std::move(full))) return;
      }
    }
    if (current.size > 0 && !(options.drop_remainder && current.size < options.batch_size)) {
      Batch last = std::move(current);
      current = empty_batch();
      if (!emit(std::move(last))) return;
    }
    push(Item{std::nullopt, consumed, position});
  }

  bool take_done() const { return options.take >= 0 && taken >= options.take; }

  [[noreturn]] void throw_data_loss(const kafka::ResolvedRange& r, int64_t next) {
    kafka::Watermarks w = consumer->query_watermarks(r.topic, r.partition);
    throw DataLossError("records " + std::to_string(next) + ".." + std::to_string(std::min(w.low, r.end) - 1) +
                        " of " + r.topic + ":" + std::to_string(r.partition) +
                        " are no longer in the log (the log now starts at offset " + std::to_string(w.low) +
                        "; retention removed them before they were read)");
  }

  // ---- bounded read-ahead (prefetch thread) ----

  // End (exclusive) of the run of contiguous ranges of one partition that
  // starts with range k.
  int64_t run_end(size_t k) const {
    int64_t end = ranges[k].end;
    for (size_t n = next_on_lane[k]; n != kNoRange && ranges[n].start == end; n = next_on_lane[n]) {
      end = ranges[n].end;
    }
    return end;
  }

  // Lanes for the ranges from `first` on (the first starting at
  // `first_start`), each assigned at its first range's start.
  void plan_pass(size_t first, int64_t first_start) {
    resume_all();
    lanes.clear();
    lane_of.assign(ranges.size(), kNoRange);
    next_on_lane.assign(ranges.size(), kNoRange);
    std::vector<size_t> last_of_lane;
    for (size_t k = first; k < ranges.size(); ++k) {
      const kafka::ResolvedRange& r = ranges[k];
      const int64_t start = k == first ? first_start : r.start;
      if (start >= r.end) continue;
      size_t l = 0;
      while (l < lanes.size() && !(lanes[l].tp.partition == r.partition && lanes[l].tp.topic == r.topic)) ++l;
      if (l == lanes.size()) {
        lanes.emplace_back();
        lanes[l].tp = {r.topic, r.partition};
        lanes[l].fetch_next = start;
        lanes[l].first = k;
        last_of_lane.push_back(kNoRange);
      } else {
        next_on_lane[last_of_lane[l]] = k;
      }
      lane_of[k] = l;
      last_of_lane[l] = k;
    }
    std::vector<kafka::TopicPartitionOffset> assignment;
    for (Lane& lane : lanes) {
      lane.limit = run_end(lane.first);
      assignment.push_back({lane.tp.topic, lane.tp.partition, lane.fetch_next});
    }
    if (assignment.empty()) {
      consumer->unassign();
    } else {
      consumer->assign(assignment);
    }
  }

  // Resumes every lane this reader paused, before the assignment changes: a
  // pause must not outlive it (librdkafka keeps it on the partition).
  void resume_all() {
    std::vector<kafka::TopicPartition> paused;
    for (Lane& lane : lanes) {
      if (lane.paused) paused.push_back(lane.tp);
      lane.paused = false;
    }
    if (!paused.empty()) consumer->resume(paused, /*wake_leaders=*/false);  // (re)assigned next: nothing to wake
  }

  void end_reads() {
    resume_all();
    consumer->unassign();
  }

  Lane* lane_of_message(const kafka::Message& m) {
    const int32_t partition = m.partition();
    for (Lane& lane : lanes) {
      if (lane.tp.partition == partition && lane.tp.topic == m.topic_view()) return &lane;
    }
    return nullptr;
  }

  void pause(Lane& lane) {
    if (lane.paused) return;
    consumer->pause({lane.tp});
    lane.paused = true;
  }

  void resume(Lane& lane) {
    if (!lane.paused) return;
    consumer->resume({lane.tp});
    lane.paused = false;
  }

  // The lane's run ended with range k: fetch the partition's next range, if
  // any, from its start.
  void advance_lane(Lane& lane, size_t k) {
    const size_t n = next_on_lane[k];
    if (n == kNoRange) {
      pause(lane);  // nothing more to read from this partition in the pass
      return;
    }
    if (ranges[n].start == ranges[k].end) return;  // the run goes on
    lane.ahead.clear();
    lane.ahead_bytes = 0;
    lane.error.reset();
    lane.fetch_next = ranges[n].start;
    lane.limit = run_end(n);
    resume(lane);  // then seek: the seek decides where fetching goes on
    if (kafka::KafkaError err = consumer->seek({lane.tp.topic, lane.tp.partition, lane.fetch_next})) {
      throw kafka::KafkaException(err.code(), "seeking " + lane.tp.topic + ":" + std::to_string(lane.tp.partition) +
                                           " to offset " + std::to_string(lane.fetch_next) + ": " + err.message());
    }
  }

  // Polls once and files each record in its lane; a lane holding more than
  // read_ahead_bytes is paused (the lane being read resumes when it is half
  // read). Besides waiting here when the lane being read is empty, the reader
  // drains librdkafka's queue without waiting before every batch it hands
  // over (emit): librdkafka 2.0 stops fetching for up to a second once its
  // queue holds queued.min.messages records (however soon they are consumed
  // after that), which stalled training from Kafka whenever training was
  // slower than the fetching.
  // Returns the number of messages polled.
  size_t fetch(Lane& reading, milliseconds timeout) {
    int64_t outstanding = 0;  // offsets the unpaused lanes still expect
    for (const Lane& lane : lanes) {
      if (!lane.paused && !lane.error) outstanding += lane.limit - lane.fetch_next;
    }
    // poll_batch waits for `want` records: never ask for more than can come.
    const size_t want = static_cast<size_t>(std::clamp<int64_t>(outstanding, 1, kMaxPoll));
    std::vector<kafka::Message> polled = consumer->poll_batch(want, timeout);
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
      if (lane->ahead_bytes > options.read_ahead_bytes || lane->fetch_next >= lane->limit) pause(*lane);
    }
    return polled.size();
  }

  // Files everything librdkafka has fetched so far in the lanes, without
  // waiting (see fetch).
  void drain(Lane& reading) {
    while (fetch(reading, milliseconds(0)) >= kMaxPoll) {
    }
  }

  // Reads range k from `next` on. Returns false to stop (asked to, or take()
  // is done and the epoch was finished).
  bool read_range(size_t k, int64_t next) {
    const kafka::ResolvedRange& r = ranges[k];
    Lane& lane = lanes[lane_of[k]];
    if (lane.fetch_next < r.end) resume(lane);  // if it was paused for being full
    reading = &lane;
    while (true) {
      while (!lane.ahead.empty() && lane.ahead.front().offset() < r.end) {
        kafka::Message m = std::move(lane.ahead.front());
        lane.ahead.pop_front();
        lane.ahead_bytes -= message_bytes(m);
        if (lane.paused && lane.fetch_next < lane.limit && lane.ahead_bytes <= options.read_ahead_bytes / 2) {
          resume(lane);  // paused for being full, now half read
        }
        if (m.offset() < next) continue;
        next = m.offset() + 1;
        position.offset = next;
        if (!add(m)) return false;
        if (take_done()) {
          reading = nullptr;
          end_reads();
          finish_epoch();
          return false;
        }
      }
      // Done when the range's last record was read, or when the lane fetched
      // past the range's end (the offsets left are gaps).
      if (next >= r.end || !lane.ahead.empty() || lane.fetch_next >= r.end) break;
      if (lane.error) throw_data_loss(r, next);
      if (stopping()) return false;
      if (fetch(lane, milliseconds(options.message_poll_timeout_ms)) > 0) {
        waiting_since.reset();
      } else if (options.wait_for_records) {
        report_wait(r, next);
      }
    }
    reading = nullptr;
    advance_lane(lane, k);
    return true;
  }

  // wait_for_records: says, at most every kWaitReportInterval, which records
  // a bounded read is waiting for.
  void report_wait(const kafka::ResolvedRange& r, int64_t next) {
    const auto now = Clock::now();
    if (!waiting_since) {
      waiting_since = now;
      last_wait_report = now;
      return;
    }
    if (now - last_wait_report < kWaitReportInterval) return;
    last_wait_report = now;
    const kafka::Watermarks w = consumer->query_watermarks(r.topic, r.partition);
    log_info("dataset: waiting for records {}..{} of {}:{} (the partition ends at offset {}; {} of the range read; "
             "waiting for {} s)",
             next, r.end - 1, r.topic, r.partition, w.high - 1, next - r.start,
             std::chrono::duration_cast<std::chrono::seconds>(now - *waiting_since).count());
  }

  void run_bounded() {
    reading = nullptr;
    position = start_position;
    for (; position.pass < options.repeat; ++position.pass, position.range = 0, position.offset = -1) {
      if (position.range >= ranges.size()) continue;
      const int64_t first_start = position.offset >= 0 ? position.offset : ranges[position.range].start;
      plan_pass(position.range, first_start);
      for (; position.range < ranges.size(); ++position.range, position.offset = -1) {
        const kafka::ResolvedRange& r = ranges[position.range];
        int64_t next = position.offset >= 0 ? position.offset : r.start;
        position.offset = next;
        if (next >= r.end) continue;
        if (!read_range(position.range, next)) return;
      }
    }
    end_reads();
    finish_epoch();
  }

  void run_group() {
    auto last_record = Clock::now();
    Clock::time_point batch_opened{};
    while (!stopping()) {
      int64_t wait = options.message_poll_timeout_ms;
      if (options.batch_wait_ms >= 0 && current.size > 0) {
        auto left = std::chrono::duration_cast<milliseconds>(batch_opened + milliseconds(options.batch_wait_ms) -
                                                             Clock::now()).count();
        wait = std::max<int64_t>(0, std::min(wait, left));
      }
      auto messages = consumer->poll_batch(options.batch_size - current.size, milliseconds(wait));
      for (auto& m : messages) {
        if (m.is_eof()) continue;
        if (kafka::KafkaError err = m.error()) {
          if (err.is_fatal()) throw kafka::KafkaException(err.code(), err.message());
          log_warn("dataset: {}", err.message());
          continue;
        }
        last_record = Clock::now();
        kafka::TopicPartition tp{m.topic(), m.partition()};
        auto seen = last_seen.find(tp);
        if (seen != last_seen.end() && m.offset() > seen->second + 1) {
          // One-offset gaps are transaction markers; more is worth saying.
          log_warn("dataset: offsets {}..{} of {}:{} were not delivered (transaction markers, compaction, or "
                   "records removed by retention)",
                   seen->second + 1, m.offset() - 1, tp.topic, tp.partition);
        }
        last_seen[tp] = m.offset();
        if (current.size == 0) batch_opened = Clock::now();
        if (!add(m)) return;
        if (take_done()) {
          finish_epoch();
          return;
        }
      }
      const bool wait_expired = options.batch_wait_ms >= 0 && current.size > 0 &&
                                Clock::now() >= batch_opened + milliseconds(options.batch_wait_ms);
      if (wait_expired) {
        Batch ready = std::move(current);
        current = empty_batch();
        if (!emit(std::move(ready))) return;
      }
      // The stream timeout counts from the last record or the last
      // assignment; before the group assigned anything it also allows for the
      // join itself (kJoinGrace).
      auto quiet_since = assigned_at ? std::max(last_record, *assigned_at) : last_record + kJoinGrace;
      if (options.stream_timeout_ms >= 0 && Clock::now() - quiet_since >= milliseconds(options.stream_timeout_ms)) {
        finish_epoch();
        return;
      }
    }
  }

  void thread_main() {
    try {
      current = empty_batch();
      pool = empty_batch();
      taken = 0;
      rng.seed(options.seed + static_cast<uint64_t>(epoch));
      if (group_mode) {
        run_group();
      } else {
        run_bounded();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      error = std::current_exception();
      not_empty.notify_all();
    }
  }

  void start() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = false;
      error = nullptr;
      queue.clear();
    }
    epoch_done = false;
    running = true;
    thread = std::thread([this] { thread_main(); });
  }

  void halt() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      not_full.notify_all();
    }
    if (thread.joinable()) thread.join();
    running = false;
  }

  void on_rebalance(kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions) {
    if (event == kafka::RebalanceEvent::kAssigned) {
      assigned_at = Clock::now();  // the stream timeout counts from here
      return;
    }
    // Revoked or lost: nothing to do here. Offsets are committed only by
    // commit(), for records the caller has finished with; records returned
    // but not committed are read again by the next owner (at-least-once).
  }
};

KafkaDataset::KafkaDataset(KafkaDatasetOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  KafkaDatasetOptions& o = d.options;
  const bool bounded = !o.ranges.empty();
  d.group_mode = !o.group.empty() || !o.topics.empty();
  if (bounded == d.group_mode) {
    throw ConfigError("a Kafka dataset reads either ranges (topic:partition:start:end) or a group with topics, "
                      "not both and not neither");
  }
  if (d.group_mode && (o.group.empty() || o.topics.empty())) {
    throw ConfigError("consumer-group mode needs both a group id (-G) and at least one topic");
  }
  if (o.batch_size == 0) throw ConfigError("batch_size must be at least 1");
  if (o.prefetch == 0) throw ConfigError("prefetch must be at least 1");
  if (o.repeat < 1) throw ConfigError("repeat " + std::to_string(o.repeat) + " is invalid: use 1 or more");
  if (o.stream_timeout_ms < -1) {
    throw ConfigError("stream_timeout " + std::to_string(o.stream_timeout_ms) +
                      " ms is invalid: use -1 (never stop) or a value >= 0");
  }
  if (o.message_poll_timeout_ms <= 0) {
    throw ConfigError("message_poll_timeout " + std::to_string(o.message_poll_timeout_ms) + " ms must be > 0");
  }
  if (o.batch_wait_ms < -1) throw ConfigError("batch_wait " + std::to_string(o.batch_wait_ms) + " ms is invalid");
  if (d.group_mode && o.shuffle_buffer > 0) {
    throw ConfigError("shuffle is for bounded ranges; a consumer group commits in arrival order");
  }
  if (!d.group_mode && o.stream_timeout_ms >= 0) {
    log_debug("stream_timeout applies to consumer-group datasets; bounded ranges end at their end offset");
  }
  if (!o.decoder.empty()) d.decoder = make_decoder(o.decoder);
  d.keep_payloads = o.keep_payloads || !d.decoder;
  if (o.bad_records == BadRecordPolicy::kDeadLetter && !o.dead_letter) {
    if (o.dead_letter_topic.empty()) {
      throw ConfigError("bad-record policy dead-letter needs a dead-letter topic");
    }
    d.dead_letters = std::make_unique<DeadLetterProducer>(o.config, o.dead_letter_topic);
    o.dead_letter = d.dead_letters->sink();
  }

  // Topic-level properties given as "topic.X" are X in a kafka::Config.
  kafka::Config config = o.config;
  // librdkafka 2.0 stops fetching for up to a second once its queue holds
  // queued.min.messages (default 100000) records, however soon they are
  // consumed after that: a reader slower than the fetching (training) then
  // finds the queue empty and waits. Let the byte bound
  // (queued.max.messages.kbytes) be the one that applies.
  config.set_default("queued.min.messages", std::to_string(kQueuedMinMessages));
  if (d.group_mode) {
    config.set("group.id", o.group);
    d.consumer = std::make_unique<kafka::Consumer>(config);
    d.consumer->set_data_loss_policy(o.on_data_loss);
    for (const auto& topic : o.topics) d.consumer->partitions_of(topic);  // clear error when missing
    d.consumer->subscribe(o.topics, [&d](kafka::RebalanceEvent e, const auto& parts) { d.on_rebalance(e, parts); });
  } else {
    config.set_default("auto.offset.reset", "error");  // never jump over missing records
    d.consumer = std::make_unique<kafka::Consumer>(config);
    std::vector<kafka::RangeSpec> specs;
    for (const auto& s : o.ranges) specs.push_back(kafka::parse_range_spec(s));
    d.ranges = kafka::resolve_ranges(*d.consumer, specs, kafka::kDefaultTimeout,
                                     o.wait_for_records ? kafka::FutureOffsets::kWait : kafka::FutureOffsets::kFail);
  }
}

KafkaDataset::~KafkaDataset() {
  impl_->halt();
  if (impl_->dead_letters) {
    try {
      impl_->dead_letters->flush();
    } catch (const std::exception& e) {
      log_error("{}", e.what());
    }
  }
  impl_->consumer->close();
}

std::optional<Batch> KafkaDataset::next() {
  Impl& d = *impl_;
  if (d.epoch_done || d.interrupted.load()) return std::nullopt;
  if (!d.running) d.start();
  Item item;
  {
    // interrupt() cannot notify (a signal handler must not lock `mu`): wait
    // in slices of one poll timeout and look at the flag in between.
    const milliseconds slice(d.options.message_poll_timeout_ms);
    std::unique_lock<std::mutex> lock(d.mu);
    while (!d.not_empty.wait_for(lock, slice, [&] { return !d.queue.empty() || d.error || d.interrupted.load(); })) {
    }
    if (d.interrupted.load()) {
      lock.unlock();
      d.halt();
      d.epoch_done = true;
      return std::nullopt;
    }
    if (d.queue.empty() && d.error) {
      std::exception_ptr error = d.error;
      lock.unlock();
      d.halt();
      d.epoch_done = true;
      std::rethrow_exception(error);
    }
    item = std::move(d.queue.front());
    d.queue.pop_front();
    if (d.queue.size() <= d.refill_at()) d.not_full.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(d.returned_mu);
    for (const auto& [tp, offset] : item.consumed) d.returned[tp] = offset;
  }
  d.returned_position = item.position;
  if (!item.batch) {
    d.epoch_done = true;
    if (d.dead_letters) d.dead_letters->flush();
    BadRecordReport report = d.bad.report();
    if (report.count > 0) {
      log_warn("dataset: {} {}", d.options.bad_records == BadRecordPolicy::kSkip ? "skipped" : "dead-lettered",
               report.summary());
    }
    return std::nullopt;
  }
  d.returned_count += item.batch->size;
  return std::move(item.batch);
}

void KafkaDataset::interrupt() { impl_->interrupted.store(true); }
bool KafkaDataset::interrupted() const { return impl_->interrupted.load(); }

void KafkaDataset::reset() {
  Impl& d = *impl_;
  if (d.group_mode) throw ConfigError("a consumer-group dataset is a stream: it has no epochs to reset");
  d.halt();
  ++d.epoch;
  d.start_position = {};
  d.bad.clear();
  d.epoch_done = false;
}

void KafkaDataset::commit() {
  Impl& d = *impl_;
  if (!d.group_mode) return;
  std::vector<kafka::TopicPartitionOffset> offsets;
  {
    std::lock_guard<std::mutex> lock(d.returned_mu);
    for (const auto& [tp, offset] : d.returned) offsets.push_back({tp.topic, tp.partition, offset});
  }
  // A transient error (request timed out, coordinator moving or down) must
  // not end a stream that is otherwise fine: retry it, saying so each time.
  const std::string what = "committing offsets of group '" + d.options.group + "'";
  auto backoff = kCommitFirstBackoff;
  for (int attempt = 1;; ++attempt) {
    kafka::KafkaError err = d.consumer->commit(offsets);
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

int64_t KafkaDataset::lost_records() const { return impl_->consumer->lost_records(); }

size_t KafkaDataset::num_features() const { return impl_->decoder ? impl_->decoder->num_features() : 0; }
size_t KafkaDataset::num_labels() const { return impl_->decoder ? impl_->decoder->num_labels() : 0; }
std::vector<std::string> KafkaDataset::feature_names() const {
  return impl_->decoder ? impl_->decoder->feature_names() : std::vector<std::string>{};
}
std::string KafkaDataset::decoder_spec() const { return impl_->decoder ? impl_->decoder->spec() : std::string(); }

std::vector<std::string> KafkaDataset::resolved_ranges() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->ranges) out.push_back(r.to_string());
  return out;
}

std::vector<kafka::TopicPartitionOffset> KafkaDataset::positions() const {
  std::lock_guard<std::mutex> lock(impl_->returned_mu);
  std::vector<kafka::TopicPartitionOffset> out;
  for (const auto& [tp, offset] : impl_->returned) out.push_back({tp.topic, tp.partition, offset});
  return out;
}

std::string KafkaDataset::state() const {
  const Impl& d = *impl_;
  std::ostringstream out;
  if (d.group_mode) {
    out << "group";
    for (const auto& p : positions()) out << ' ' << p.topic << ':' << p.partition << ':' << p.offset;
  } else {
    out << "bounded " << d.returned_position.pass << ' ' << d.returned_position.range << ' '
        << d.returned_position.offset;
  }
  return out.str();
}

void KafkaDataset::restore(const std::string& state) {
  Impl& d = *impl_;
  std::istringstream in(state);
  std::string mode;
  in >> mode;
  auto bad = [&](const std::string& why) {
    return ConfigError("cannot restore dataset state '" + state + "': " + why);
  };
  if (d.group_mode) {
    if (mode != "group") throw bad("a consumer-group dataset expects 'group TOPIC:PARTITION:OFFSET ...'");
    std::vector<kafka::TopicPartitionOffset> offsets;
    std::string item;
    while (in >> item) {
      const size_t a = item.rfind(':');
      const size_t b = a == std::string::npos || a == 0 ? std::string::npos : item.rfind(':', a - 1);
      std::optional<int64_t> partition, offset;
      if (b != std::string::npos && b > 0) {
        partition = parse_state_number(std::string_view(item).substr(b + 1, a - b - 1));
        offset = parse_state_number(std::string_view(item).substr(a + 1));
      }
      if (!partition || !offset || *partition > INT32_MAX) {
        throw bad("'" + item + "' is not TOPIC:PARTITION:OFFSET with a non-negative partition and offset");
      }
      offsets.push_back({item.substr(0, b), static_cast<int32_t>(*partition), *offset});
    }
    d.consumer->set_start_offsets(offsets);
    return;
  }
  BoundedPosition p;
  if (mode != "bounded" || !(in >> p.pass >> p.range >> p.offset) || p.pass < 0 || p.offset < -1 ||
      p.range > d.ranges.size()) {
    throw bad("a bounded dataset of " + std::to_string(d.ranges.size()) + " range(s) expects 'bounded PASS RANGE OFFSET'");
  }
  d.halt();
  d.start_position = p;
  d.epoch_done = false;
}

BadRecordReport KafkaDataset::report() const { return impl_->bad.report(); }
uint64_t KafkaDataset::records_returned() const { return impl_->returned_count; }

}  // namespace streamml::data
