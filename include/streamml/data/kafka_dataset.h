// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaDataset: streams Kafka records into decoded, batched rows (a
// BatchSource), the C++ counterpart of TensorFlow I/O's KafkaDataset,
// KafkaGroupIODataset and KafkaBatchIODataset.
//
// Sources (exactly one):
//  * Bounded ranges: `ranges` in the `topic[:partition[:start[:end]]]`
//    grammar (kafka/range_spec.h; end inclusive; `-1`/`end` is the high
//    watermark when the dataset is opened). Ranges are read in order, so every
//    epoch (reset()) replays exactly the same records in the same order. A
//    range asking for offsets not produced yet is an InputError at once
//    ("t:0 ends at offset 281; the range asks for 150..6000"), unless
//    `wait_for_records` is set.
//  * Consumer-group streaming: `group` + `topics`. Starts from the group's
//    committed offsets (auto.offset.reset decides for a new group; it may be
//    given as `auto.offset.reset` or `topic.auto.offset.reset`). Offsets are
//    committed only by commit(), for the records already returned by next():
//    call it after the training step or after predictions were written, so a
//    crash never loses or skips a record (at-least-once).
//    With `batch_wait` >= 0 this is the online mini-batch mode: each batch
//    holds up to batch_size records that arrived within that wait after its
//    first record; never an empty batch.
//
// A background thread reads and decodes ahead into a bounded queue of
// `prefetch` batches, so memory stays bounded however long the stream. For
// bounded ranges, `decode_threads` workers decode while that thread reads;
// the batches are the same, in the same order, as with one thread.
//
// Bounded ranges are fetched ahead: every partition of the ranges still to
// read is fetched at once, records are still returned strictly in range
// order. Memory: at most about `read_ahead_bytes` of fetched records per
// partition, plus librdkafka's fetch queue (queued.max.messages.kbytes; the
// dataset's default queued.min.messages is 1000000, so that the byte bound is
// the one that applies), plus `prefetch` decoded batches. Offsets a partition
// does not deliver inside a range (transaction markers, compaction) are gaps.
// docs/training.md explains the read-ahead and the queued.min.messages default.
//
// Undecodable records, and decoded ones that fail `check`, follow
// `bad_records` (fail: InputError naming topic:partition:offset and the
// reason; skip: counted in report() and logged at the end of each epoch;
// dead-letter: original bytes to `dead_letter_topic` with headers, see
// dead_letter.h). Records that are no longer in the log (retention moved the
// log start past them) raise DataLossError "records X..Y of t:p are no longer
// in the log"; they are never skipped silently.
//
// Thread-safety: a KafkaDataset is used from one thread (next/reset/commit/
// state), except interrupt(), which is safe from any thread and from a
// signal handler; it owns and joins its prefetch thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streamml/data/bad_record.h"
#include "streamml/data/batch.h"
#include "streamml/data/file_source.h"
#include "streamml/kafka/config.h"
#include "streamml/kafka/consumer.h"

namespace streamml::data {

struct KafkaDatasetOptions {
  kafka::Config config;              // bootstrap.servers and any librdkafka property
  std::vector<std::string> ranges;   // bounded source: range specs, read in order
  std::string group;                 // group source: consumer group id
  std::vector<std::string> topics;   // group source: topics to subscribe to
  std::string decoder;               // decoder spec (decoder.h); "" = no decoding, payloads only
  bool keep_payloads = false;        // also fill Batch::payloads (always on without a decoder)
  size_t batch_size = 32;            // rows per batch (>= 1)
  bool drop_remainder = false;       // drop a last batch smaller than batch_size
  int repeat = 1;                    // bounded: passes over the ranges per epoch (>= 1)
  int64_t take = -1;                 // stop the epoch after this many records (-1: all)
  size_t shuffle_buffer = 0;         // bounded: shuffle rows through a buffer of this size (0: off)
  uint64_t seed = 0;                 // shuffle seed (epoch e uses seed + e)
  kafka::milliseconds stream_timeout{-1};  // group: stop when no record arrived for this long (-1: never)
  kafka::milliseconds message_poll_timeout{100};  // how long one poll waits (> 0)
  kafka::milliseconds batch_wait{-1};      // group: close a batch this long after its first record (-1: fill it)
  size_t prefetch = 16;              // batches decoded ahead (>= 1); refilled when half taken
  size_t read_ahead_bytes = 16 << 20;  // bounded: bytes fetched ahead per partition whose range has not come
  int decode_threads = -1;           // bounded: threads decoding besides the reading one (-1: one per CPU
                                     // beyond two, at most 4; 0: the reading thread decodes)
  bool wait_for_records = false;     // bounded: wait (logging progress) for range offsets not produced yet
                                     // (false: the constructor throws InputError naming the range)
  BadRecordPolicy bad_records = BadRecordPolicy::kFail;  // undecodable records, and those failing `check`
  kafka::DataLossPolicy on_data_loss = kafka::DataLossPolicy::kReport;  // group: records lost to retention
  RecordCheck check;                 // with a decoder: rejects decoded records (e.g. non-finite); empty = none;
                                     // runs on the decode threads, so it must be thread-safe
  std::string dead_letter_topic;     // with kDeadLetter (or set dead_letter)
  DeadLetterSink dead_letter;        // with kDeadLetter, instead of a topic
  std::function<void(Batch&)> map;   // applied to every batch on the prefetch thread
};

class KafkaDataset final : public BatchSource {
 public:
  // Validates the options (ConfigError naming the option, e.g.
  // "stream_timeout -20 ms is invalid: use -1 (never) or a value >= 0"),
  // connects, and for bounded ranges resolves them (kafka::KafkaException for a
  // missing topic/partition, DataLossError when a range is gone, InputError
  // when it asks for records not produced yet and wait_for_records is off).
  explicit KafkaDataset(KafkaDatasetOptions options);
  ~KafkaDataset() override;
  KafkaDataset(const KafkaDataset&) = delete;
  KafkaDataset& operator=(const KafkaDataset&) = delete;

  // Rethrows errors of the prefetch thread (InputError for a bad record under
  // kFail, DataLossError, kafka::KafkaException).
  std::optional<Batch> next() override;
  // True when next() would return without waiting (a batch, the end of the
  // stream, or an error), after waiting up to `wait` for that: a caller that
  // must not block long (distributed online training, which steps with
  // every rank) goes on without records.
  bool ready(std::chrono::milliseconds wait);
  // Bounded: starts the next epoch (the same records). Group: ConfigError.
  void reset() override;
  // Makes next() return nullopt from now on, as at the end of the stream,
  // within about message_poll_timeout also when it is waiting for records:
  // a shutdown. Batches not yet returned are dropped, so commit() covers only
  // the records returned before. Safe from any thread and from a signal
  // handler (it only sets an atomic flag); it cannot be undone.
  void interrupt();
  bool interrupted() const;
  // Group: commits the offsets of every record returned so far (synchronous).
  // Transient errors (request timed out, coordinator moved or unavailable,
  // broker down) are retried with backoff for about 15 s, each logged as a
  // warning; then, or for a permanent error, throws kafka::KafkaException naming the
  // group. When the group rebalanced without this member (unknown member,
  // illegal generation, rebalance in progress) the commit is dropped with a
  // warning: the records since the last commit are read again (at-least-once).
  // Bounded: no-op.
  void commit() override;

  // Group: records lost to retention before they were read (reported and
  // skipped under DataLossPolicy::kReport; see kafka/consumer.h).
  int64_t lost_records() const;

  size_t num_features() const override;
  size_t num_labels() const override;
  std::vector<std::string> feature_names() const override;
  std::string decoder_spec() const override;

  // The resolved ranges (bounded mode), e.g. for reporting.
  std::vector<std::string> resolved_ranges() const;
  // Next offset to read per partition, for the records returned so far.
  std::vector<kafka::TopicPartitionOffset> positions() const;

  // Iterator state: the position after the last returned record, as text
  // (bounded: range index and offset within the epoch; group: per-partition
  // offsets). restore() resumes at the next unconsumed record: nothing
  // repeated, nothing skipped. Restoring is exact when shuffle is off.
  std::string state() const override;
  void restore(const std::string& state) override;

  BadRecordReport report() const;
  uint64_t records_returned() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamml::data
