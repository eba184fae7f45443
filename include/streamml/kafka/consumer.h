// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Consumer: a high-level librdkafka consumer. Either assign explicit
// partitions (with start offsets) or subscribe with a group (group.id); poll
// one message or a batch; commit explicit offsets (sync or async); seek;
// query watermarks and offsets for a timestamp; observe rebalances.
//
// Offsets passed to commit() are the *next* offsets to read (Kafka's
// convention), i.e. last processed offset + 1.
//
// Records lost to retention are never skipped in silence: when the group's
// committed offset (or a start offset) of an assigned partition is below its
// log start, or the fetch position falls behind the log start while
// reading, the lost offsets are logged as an error, counted
// (lost_records()) and handled by the DataLossPolicy (default: report and go
// on from the log start).
//
// enable.auto.commit defaults to false here: offsets are committed only when
// the caller says its records are done (commit()), so a crash never skips a
// record. Set it explicitly to opt back in.
//
// Errors: an outcome the caller is expected to handle and go on from is a
// returned KafkaError (commit() refused after a rebalance, seek() of a
// partition no longer assigned); a failure that ends the operation throws
// KafkaException (pause/resume of partitions not assigned, watermark,
// metadata and offset queries that get no answer; DataLossError for data
// loss under DataLossPolicy::kFail). Each method's comment says which.
//
// Thread-safety: one thread should own a Consumer (poll, commit, seek);
// watermark and metadata queries are safe from other threads. close() leaves
// the group; the destructor calls it and never throws.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/handle.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/types.h"

struct rd_kafka_consumer_group_metadata_s;

namespace streamml::kafka {

enum class RebalanceEvent { kAssigned, kRevoked, kLost };

// What a group consumer does when records it was to read next were removed
// by retention first (its committed offset, or its position while reading,
// fell below the partition's log start).
enum class DataLossPolicy {
  kReport,  // log an error naming the partition and the lost offsets, count them, go on from the log start
  kFail,    // the same error, then poll() throws DataLossError
};

// Called on the polling thread during a rebalance, after the assignment was
// applied (kAssigned) or before it is removed (kRevoked / kLost).
using RebalanceCallback =
    std::function<void(RebalanceEvent, const std::vector<TopicPartitionOffset>&)>;

class Consumer {
 public:
  // Defaults that differ from librdkafka's (each kept when `config` sets it):
  // enable.auto.commit=false, and queued.min.messages=1000000 so that the
  // byte bound queued.max.messages.kbytes limits the fetch queue (librdkafka
  // 2.0 otherwise stalls for up to a second at 100000 queued records).
  // Throws ConfigError / KafkaException.
  explicit Consumer(Config config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Explicit assignment. offset may be a real offset, kOffsetBeginning,
  // kOffsetEnd or kOffsetStored. Replaces any previous assignment.
  void assign(const std::vector<TopicPartitionOffset>& partitions);
  void unassign();
  std::vector<TopicPartition> assignment() const;

  // Joins the group named by group.id (ConfigError if unset).
  void subscribe(const std::vector<std::string>& topics, RebalanceCallback on_rebalance = {});
  void unsubscribe();

  // Start offsets to use for these partitions when the group assigns them
  // to this consumer (instead of the committed offsets). Used to resume from
  // a checkpoint. Applied on every later assignment until cleared.
  void set_start_offsets(const std::vector<TopicPartitionOffset>& offsets);

  // What to do when records are lost to retention (see the class comment).
  void set_data_loss_policy(DataLossPolicy policy) { data_loss_policy_ = policy; }
  // Records lost to retention since construction, and the number of gaps.
  // Safe from any thread.
  int64_t lost_records() const { return lost_records_.load(std::memory_order_relaxed); }
  int64_t data_loss_events() const { return data_loss_events_.load(std::memory_order_relaxed); }

  // One message, an event (error / end of partition), or an empty Message on
  // timeout. Throws DataLossError under DataLossPolicy::kFail once records
  // were lost.
  Message poll(milliseconds timeout);
  // Up to `max` messages: returns once `max` are there or when `timeout`
  // expires, whichever comes first (so with fewer than `max` arriving it
  // waits the whole timeout; where latency matters, poll() the first message
  // and then poll_batch(max, 0) what came with it). Events (errors, end of
  // partition) are included as Messages whose error() is set.
  std::vector<Message> poll_batch(size_t max, milliseconds timeout);

  // Commits explicit offsets (next offset to read). Async returns at once;
  // its failure (after librdkafka's retries) is logged as a warning naming the
  // partitions, when the consumer is next polled.
  KafkaError commit(const std::vector<TopicPartitionOffset>& offsets, bool async = false);
  // Committed offsets of the group for these partitions.
  std::vector<TopicPartitionOffset> committed(const std::vector<TopicPartition>& partitions,
                                              milliseconds timeout = kDefaultTimeout) const;
  // Whether the group stored `sent`, the offsets of a transaction that
  // committed (Producer::send_offsets_to_transaction): false when a committed
  // offset reads back lower. librdkafka's mock cluster (EmbeddedCluster)
  // acknowledges TxnOffsetCommit without storing the offsets; where this is
  // false, commit them with commit() as well. On an embedded cluster false at
  // once, without a request; when the read-back fails, true (logged).
  bool stores_transactional_offsets(const std::vector<TopicPartitionOffset>& sent,
                                    milliseconds timeout = kDefaultTimeout) const;
  // The next offset to be fetched for each assigned partition.
  std::vector<TopicPartitionOffset> position(const std::vector<TopicPartition>& partitions) const;

  // Moves the fetch position of an assigned partition.
  KafkaError seek(const TopicPartitionOffset& to, milliseconds timeout = kDefaultTimeout);

  // Stops / restarts fetching of assigned partitions. Records fetched but not
  // yet returned by poll may be dropped on pause: resume() fetches again from
  // the offset after the last record poll returned for the partition, so
  // nothing is skipped. resume() also asks each partition's leader for its
  // watermarks (one round trip), so that fetching restarts at once.
  // wake_leaders = false skips that, for a resume right before the partitions
  // are unassigned or reassigned (a pause outlives its assignment otherwise).
  // Throws KafkaException.
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions, bool wake_leaders = true);

  // Asks the partition leader. Throws KafkaException on failure.
  Watermarks query_watermarks(const std::string& topic, int32_t partition,
                              milliseconds timeout = kDefaultTimeout) const;
  // The watermarks this consumer last learned from its fetches of an
  // assigned partition, without a request; nullopt when it knows none yet.
  std::optional<Watermarks> cached_watermarks(const std::string& topic, int32_t partition) const;
  // For each partition, the first offset whose timestamp is >= the given
  // timestamp (ms), or the high watermark when there is none. The embedded
  // cluster does not index timestamps (ListOffsets answers -1 for every time),
  // so there the records are scanned instead (at most ~5 MiB per partition).
  std::vector<TopicPartitionOffset> offsets_for_times(
      const std::vector<TopicPartitionOffset>& timestamps,
      milliseconds timeout = kDefaultTimeout) const;
  // Partition ids of a topic, from metadata. Throws KafkaException when the
  // topic does not exist.
  std::vector<int32_t> partitions_of(const std::string& topic,
                                     milliseconds timeout = kDefaultTimeout) const;

  // Leaves the group and stops fetching. Idempotent; never throws.
  void close() noexcept;

  const std::string& name() const { return name_; }

 private:
  friend class Producer;
  // For transactional producers (send_offsets_to_transaction).
  rd_kafka_consumer_group_metadata_s* group_metadata() const;
  friend struct ConsumerCallbacks;
  void handle_rebalance(int err, rd_kafka_topic_partition_list_s* partitions);
  // Moves assigned partitions whose start is below the log start there,
  // reporting the lost offsets.
  void check_assigned_starts(rd_kafka_topic_partition_list_s* partitions);
  // Checks the records polled for positions that fell behind the log start.
  void check_positions(rd_kafka_message_s* const* messages, size_t count);
  // Logs and counts lost offsets [first, end) of a partition; under kFail
  // remembers the error for the next poll.
  void report_loss(const std::string& topic, int32_t partition, int64_t first, int64_t end, const char* when);
  void throw_pending_loss();

  // First offset in [low, high) of `tp` with timestamp >= `unix_ms`, by
  // reading the records (for clusters without a time index); high if none.
  int64_t scan_offset_for_time(const TopicPartitionOffset& tp, milliseconds timeout) const;

  Config config_;  // as given, for the scanner of scan_offset_for_time()
  bool embedded_ = false;  // talks to an EmbeddedCluster
  HandlePtr handle_;
  QueuePtr queue_;  // the consumer queue, for batch polls
  std::string name_;
  RebalanceCallback on_rebalance_;
  bool closed_ = false;
  bool no_group_ = false;  // group.id was not configured
  bool subscribed_ = false;  // subscribe() was called: positions are checked for data loss
  std::vector<TopicPartitionOffset> start_offsets_;  // see set_start_offsets()
  DataLossPolicy data_loss_policy_ = DataLossPolicy::kReport;
  std::atomic<int64_t> lost_records_{0};
  std::atomic<int64_t> data_loss_events_{0};
  std::string pending_loss_;  // kFail: the error poll() throws next
  // Group mode: the next offset expected per partition (owner thread only).
  std::map<TopicPartition, int64_t> expected_;
};

}  // namespace streamml::kafka
