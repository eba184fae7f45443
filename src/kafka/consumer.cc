// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "internal.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/embedded_cluster.h"

namespace streamml::kafka {
namespace {

// How long resume() waits for the request that wakes a leader's thread.
constexpr int kWakeTimeoutMs = 1000;
// How long an assignment waits for the committed offsets and log starts it
// checks for records lost to retention (then it goes on unchecked, warning).
constexpr int kLossCheckTimeoutMs = 10000;

// Every consumer's queued.min.messages default (see the constructor).
constexpr int kQueuedMinMessages = 1000000;

}  // namespace

struct ConsumerCallbacks {
  static void rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                        void* opaque) {
    static_cast<Consumer*>(opaque)->handle_rebalance(err, partitions);
  }
  // Asynchronous commits report their result only here: say when one failed
  // (a later commit, or the final synchronous one, stores the offsets then).
  static void offset_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                            void*) {
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;  // nothing to commit
    std::string failed;
    for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = offsets->elems[i];
      if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      failed += std::string(failed.empty() ? "" : ", ") + tp.topic + ":" + std::to_string(tp.partition) + " at " +
                std::to_string(tp.offset) + " (" + rd_kafka_err2str(tp.err) + ")";
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && failed.empty()) return;
    log_warn("consumer {}: offset commit failed: {}{}{}", rd_kafka_name(rk), rd_kafka_err2str(err),
             failed.empty() ? "" : "; ", failed);
  }
};

Consumer::Consumer(Config config) : config_(config) {
  if (auto servers = config.get("bootstrap.servers")) embedded_ = EmbeddedCluster::is_embedded(*servers);
  config.set_default("enable.auto.commit", "false");
  // librdkafka 2.0 stops fetching for up to a second once its queue holds
  // queued.min.messages (default 100000) records, however soon they are
  // consumed after that (fixed in 2.2 by fetch.queue.backoff.ms): a reader
  // slower than the fetching, such as training or serving a backlog, then
  // finds the queue empty and waits. Let the byte bound
  // (queued.max.messages.kbytes) be the one that applies.
  config.set_default("queued.min.messages", std::to_string(kQueuedMinMessages));
  EmbeddedCluster::apply_consumer_defaults(config);
  if (!config.contains("group.id")) {
    // librdkafka's high-level consumer needs a group id even for explicit
    // assignment; without subscribe() it never joins, and nothing commits.
    no_group_ = true;
    config.set("group.id", "streamml-unmanaged");
  }
  ConfPtr conf = internal::make_conf(RD_KAFKA_CONSUMER, config);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &ConsumerCallbacks::rebalance);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &ConsumerCallbacks::offset_commit);
  handle_ = internal::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  name_ = rd_kafka_name(handle_.get());
  rd_kafka_poll_set_consumer(handle_.get());
  queue_.reset(rd_kafka_queue_get_consumer(handle_.get()));
}

Consumer::~Consumer() { close(); }

void Consumer::assign(const std::vector<TopicPartitionOffset>& partitions) {
  PartitionListPtr list = internal::to_list(partitions);
  internal::check(rd_kafka_assign(handle_.get(), list.get()), "assign");
}

void Consumer::unassign() { internal::check(rd_kafka_assign(handle_.get(), nullptr), "unassign"); }

std::vector<TopicPartition> Consumer::assignment() const {
  rd_kafka_topic_partition_list_t* list = nullptr;
  internal::check(rd_kafka_assignment(handle_.get(), &list), "assignment");
  PartitionListPtr owned(list);
  std::vector<TopicPartition> out;
  for (const auto& tpo : internal::from_list(list)) out.push_back({tpo.topic, tpo.partition});
  return out;
}

void Consumer::subscribe(const std::vector<std::string>& topics, RebalanceCallback on_rebalance) {
  if (no_group_) {
    throw ConfigError("subscribing needs a consumer group: set group.id (-G GROUP)");
  }
  on_rebalance_ = std::move(on_rebalance);
  subscribed_ = true;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  internal::check(rd_kafka_subscribe(handle_.get(), list.get()), "subscribe");
}

void Consumer::set_start_offsets(const std::vector<TopicPartitionOffset>& offsets) {
  start_offsets_ = offsets;
}

void Consumer::unsubscribe() { internal::check(rd_kafka_unsubscribe(handle_.get()), "unsubscribe"); }


void Consumer::handle_rebalance(int err, rd_kafka_topic_partition_list_s* partitions) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(handle_.get()), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (const auto& start : start_offsets_) {
      rd_kafka_topic_partition_t* tp =
          rd_kafka_topic_partition_list_find(partitions, start.topic.c_str(), start.partition);
      if (tp != nullptr) tp->offset = start.offset;
    }
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) check_assigned_starts(partitions);
  auto offsets = internal::from_list(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      ErrorPtr e(rd_kafka_incremental_assign(handle_.get(), partitions));
      if (e) log_error("incremental assign failed: {}", rd_kafka_error_string(e.get()));
    } else {
      rd_kafka_resp_err_t e = rd_kafka_assign(handle_.get(), partitions);
      if (e) log_error("assign failed: {}", rd_kafka_err2str(e));
    }
    log_info("consumer {}: assigned {} partition(s)", name_, offsets.size());
    if (on_rebalance_) on_rebalance_(RebalanceEvent::kAssigned, offsets);
    return;
  }
  // Revoked or lost: let the owner finish (commit) before the partitions go.
  const bool lost = rd_kafka_assignment_lost(handle_.get()) != 0;
  log_info("consumer {}: {} {} partition(s)", name_, lost ? "lost" : "revoked", offsets.size());
  if (on_rebalance_) on_rebalance_(lost ? RebalanceEvent::kLost : RebalanceEvent::kRevoked, offsets);
  for (const auto& tpo : offsets) expected_.erase({tpo.topic, tpo.partition});
  if (cooperative) {
    ErrorPtr e(rd_kafka_incremental_unassign(handle_.get(), partitions));
  } else {
    rd_kafka_assign(handle_.get(), nullptr);
  }
}

void Consumer::check_assigned_starts(rd_kafka_topic_partition_list_s* partitions) {
  if (partitions == nullptr || partitions->cnt == 0) return;
  PartitionListPtr committed(rd_kafka_topic_partition_list_copy(partitions));
  if (rd_kafka_resp_err_t err = rd_kafka_committed(handle_.get(), committed.get(), kLossCheckTimeoutMs)) {
    log_warn("consumer {}: committed offsets not checked against the log start: {}", name_, rd_kafka_err2str(err));
    return;
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    const TopicPartition key{tp.topic, tp.partition};
    // An explicit start (set_start_offsets) wins over the committed offset.
    const int64_t start = tp.offset >= 0 ? tp.offset : committed->elems[i].err ? -1 : committed->elems[i].offset;
    expected_.erase(key);
    if (start < 0) continue;  // nothing committed: auto.offset.reset decides
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(handle_.get(), tp.topic, tp.partition, &low, &high, kLossCheckTimeoutMs) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    if (start > high) continue;  // past the end (topic recreated?): auto.offset.reset decides
    if (start < low) {
      report_loss(tp.topic, tp.partition, start, low, "the group's committed offset is below the log start");
      tp.offset = low;
    }
    expected_[key] = std::max(start, low);
  }
}

void Consumer::check_positions(rd_kafka_message_s* const* messages, size_t count) {
  if (!subscribed_) return;
  const rd_kafka_topic_t* last_topic = nullptr;
  int32_t last_partition = -1;
  int64_t* expected = nullptr;
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_message_t* m = messages[i];
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || m->rkt == nullptr) continue;
    if (m->rkt != last_topic || m->partition != last_partition) {
      last_topic = m->rkt;
      last_partition = m->partition;
      expected = &expected_.try_emplace({rd_kafka_topic_name(m->rkt), m->partition}, m->offset).first->second;
    }
    if (m->offset > *expected) {
      // A gap: transaction markers and compaction make them too. Records were
      // lost when the log start (as the last fetch reported it) passed them.
      int64_t low = -1, high = -1;
      rd_kafka_get_watermark_offsets(handle_.get(), rd_kafka_topic_name(m->rkt), m->partition, &low, &high);
      if (low > *expected) {
        report_loss(rd_kafka_topic_name(m->rkt), m->partition, *expected, std::min(low, m->offset),
                    "the fetch position fell behind the log start while reading");
      }
    }
    *expected = m->offset + 1;
  }
}

void Consumer::report_loss(const std::string& topic, int32_t partition, int64_t first, int64_t end,
                           const char* when) {
  const std::string message = "records " + std::to_string(first) + ".." + std::to_string(end - 1) + " of " + topic +
                              ":" + std::to_string(partition) + " were removed by retention before they were read (" +
                              when + "): " + std::to_string(end - first) + " record(s) lost";
  lost_records_.fetch_add(end - first, std::memory_order_relaxed);
  data_loss_events_.fetch_add(1, std::memory_order_relaxed);
  log_error("consumer {}: {}{}", name_, message,
            data_loss_policy_ == DataLossPolicy::kReport ? "; reading on from the log start" : "");
  if (data_loss_policy_ == DataLossPolicy::kFail && pending_loss_.empty()) pending_loss_ = message;
}

void Consumer::throw_pending_loss() {
  if (pending_loss_.empty()) return;
  std::string message = std::move(pending_loss_);
  pending_loss_.clear();
  throw DataLossError(message);
}

Message Consumer::poll(milliseconds timeout) {
  throw_pending_loss();
  rd_kafka_message_t* raw = rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count()));
  Message out(raw);
  if (raw != nullptr) check_positions(&raw, 1);
  throw_pending_loss();
  return out;
}

std::vector<Message> Consumer::poll_batch(size_t max, milliseconds timeout) {
  throw_pending_loss();
  std::vector<rd_kafka_message_t*> raw(max);
  ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), static_cast<int>(timeout.count()), raw.data(), max);
  std::vector<Message> out;
  if (n <= 0) {
    throw_pending_loss();  // a rebalance served by this poll may have found a loss
    return out;
  }
  out.reserve(static_cast<size_t>(n));
  for (ssize_t i = 0; i < n; ++i) out.push_back(Message(raw[i]));
  check_positions(raw.data(), static_cast<size_t>(n));
  throw_pending_loss();
  return out;
}

KafkaError Consumer::commit(const std::vector<TopicPartitionOffset>& offsets, bool async) {
  if (offsets.empty()) return {};
  if (no_group_) return internal::to_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "commit needs group.id");
  PartitionListPtr list = internal::to_list(offsets);
  rd_kafka_resp_err_t err = rd_kafka_commit(handle_.get(), list.get(), async ? 1 : 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Per-partition errors are reported in the list after a sync commit.
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err) {
        return internal::to_error(list->elems[i].err,
                                  std::string("commit ") + list->elems[i].topic + ":" +
                                      std::to_string(list->elems[i].partition));
      }
    }
  }
  return internal::to_error(err, "commit");
}

std::vector<TopicPartitionOffset> Consumer::committed(const std::vector<TopicPartition>& partitions,
                                                      milliseconds timeout) const {
  PartitionListPtr list = internal::to_list(partitions);
  internal::check(rd_kafka_committed(handle_.get(), list.get(), static_cast<int>(timeout.count())),
                  "fetching committed offsets");
  return internal::from_list(list.get());
}

bool Consumer::stores_transactional_offsets(const std::vector<TopicPartitionOffset>& sent,
                                            milliseconds timeout) const {
  if (embedded_) return false;  // the mock cluster never stores them
  std::vector<TopicPartition> parts;
  parts.reserve(sent.size());
  for (const auto& o : sent) parts.push_back({o.topic, o.partition});
  bool stored = true;
  try {
    for (const auto& c : committed(parts, timeout)) {
      for (const auto& o : sent) {
        if (o.topic == c.topic && o.partition == c.partition && c.offset < o.offset) stored = false;
      }
    }
  } catch (const std::exception& e) {
    log_warn("consumer {}: reading the committed offsets: {}", name_, e.what());
  }
  if (!stored) {
    log_warn("consumer {}: the cluster did not store the offsets of a committed transaction "
             "(librdkafka mock cluster?)",
             name_);
  }
  return stored;
}

std::vector<TopicPartitionOffset> Consumer::position(const std::vector<TopicPartition>& partitions) const {
  PartitionListPtr list = internal::to_list(partitions);
  internal::check(rd_kafka_position(handle_.get(), list.get()), "position");
  return internal::from_list(list.get());
}

KafkaError Consumer::seek(const TopicPartitionOffset& to, milliseconds timeout) {
  if (to.offset >= 0) {
    expected_[{to.topic, to.partition}] = to.offset;
  } else {
    expected_.erase({to.topic, to.partition});
  }
  PartitionListPtr list = internal::to_list(std::vector<TopicPartitionOffset>{to});
  ErrorPtr error(rd_kafka_seek_partitions(handle_.get(), list.get(), static_cast<int>(timeout.count())));
  if (error) return internal::to_error(error.get());
  if (list->elems[0].err) return internal::to_error(list->elems[0].err, "seek " + to.topic);
  return {};
}

void Consumer::pause(const std::vector<TopicPartition>& partitions) {
  PartitionListPtr list = internal::to_list(partitions);
  internal::check(rd_kafka_pause_partitions(handle_.get(), list.get()), "pause");
  for (int i = 0; i < list->cnt; ++i) {
    internal::check(list->elems[i].err, std::string("pause ") + list->elems[i].topic + ":" +
                                            std::to_string(list->elems[i].partition));
  }
}

void Consumer::resume(const std::vector<TopicPartition>& partitions, bool wake_leaders) {
  PartitionListPtr list = internal::to_list(partitions);
  internal::check(rd_kafka_resume_partitions(handle_.get(), list.get()), "resume");
  for (int i = 0; i < list->cnt; ++i) {
    internal::check(list->elems[i].err, std::string("resume ") + list->elems[i].topic + ":" +
                                            std::to_string(list->elems[i].partition));
  }
  // librdkafka 2.0 clears the pause on its main thread and does not wake the
  // thread of the partition's leader. A broker thread with no fetchable
  // partition sleeps up to a second, so when every partition it leads was
  // paused, fetching restarted up to 1 s after resume() (a KafkaDataset
  // pausing at its read-ahead limit read 6k records/s instead of 1M). A
  // request to the leader wakes its thread, which then sees the resumed
  // partition: ask it for the watermarks (one round trip; the answer and any
  // error are irrelevant here, a failing leader is reported by the fetch).
  for (int i = 0; wake_leaders && i < list->cnt; ++i) {
    int64_t low = 0, high = 0;
    rd_kafka_query_watermark_offsets(handle_.get(), list->elems[i].topic, list->elems[i].partition, &low, &high,
                                     kWakeTimeoutMs);
  }
}

std::optional<Watermarks> Consumer::cached_watermarks(const std::string& topic, int32_t partition) const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(handle_.get(), topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return std::nullopt;
  }
  return Watermarks{low, high};
}

Watermarks Consumer::query_watermarks(const std::string& topic, int32_t partition,
                                      milliseconds timeout) const {
  Watermarks w;
  internal::check(rd_kafka_query_watermark_offsets(handle_.get(), topic.c_str(), partition, &w.low, &w.high,
                                                   static_cast<int>(timeout.count())),
                  "watermarks of " + topic + ":" + std::to_string(partition));
  return w;
}

std::vector<TopicPartitionOffset> Consumer::offsets_for_times(
    const std::vector<TopicPartitionOffset>& timestamps, milliseconds timeout) const {
  if (embedded_) {
    std::vector<TopicPartitionOffset> out = timestamps;
    for (auto& tpo : out) tpo.offset = scan_offset_for_time(tpo, timeout);
    return out;
  }
  PartitionListPtr list = internal::to_list(timestamps);
  internal::check(rd_kafka_offsets_for_times(handle_.get(), list.get(), static_cast<int>(timeout.count())),
                  "offsets for times");
  auto out = internal::from_list(list.get());
  for (size_t i = 0; i < out.size(); ++i) {
    if (list->elems[i].err) {
      internal::check(list->elems[i].err, "offset for time of " + out[i].topic + ":" +
                                              std::to_string(out[i].partition));
    }
    if (out[i].offset < 0) {  // no record at or after the time: the end
      out[i].offset = query_watermarks(out[i].topic, out[i].partition, timeout).high;
    }
  }
  return out;
}

int64_t Consumer::scan_offset_for_time(const TopicPartitionOffset& tp, milliseconds timeout) const {
  const Watermarks w = query_watermarks(tp.topic, tp.partition, timeout);
  if (w.low >= w.high) return w.high;
  Config config = config_;
  config.erase("group.id");
  config.set("enable.partition.eof", "true");
  config.set("auto.offset.reset", "error");
  Consumer scanner(config);
  scanner.assign({{tp.topic, tp.partition, w.low}});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& m : scanner.poll_batch(1000, milliseconds(100))) {
      if (m.is_eof()) return w.high;
      if (KafkaError err = m.error()) {
        throw KafkaException(err.code(), "offset for time " + std::to_string(tp.offset) + " of " + tp.topic + ":" +
                                             std::to_string(tp.partition) + ": " + err.message());
      }
      if (m.timestamp_ms() >= tp.offset) return m.offset();
      if (m.offset() + 1 >= w.high) return w.high;
    }
  }
  throw KafkaException(RD_KAFKA_RESP_ERR__TIMED_OUT,
                       "offset for time " + std::to_string(tp.offset) + " of " + tp.topic + ":" +
                           std::to_string(tp.partition) + ": records not read within " +
                           std::to_string(timeout.count()) + " ms");
}

std::vector<int32_t> Consumer::partitions_of(const std::string& topic, milliseconds timeout) const {
  // All-topics metadata: asking for one topic by name may auto-create it.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(handle_.get(), 1, nullptr, &md, static_cast<int>(timeout.count()));
  internal::check(err, "metadata for topic '" + topic + "'");
  std::vector<int32_t> out;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic) continue;
    topic_err = md->topics[i].err;
    for (int p = 0; p < md->topics[i].partition_cnt; ++p) out.push_back(md->topics[i].partitions[p].id);
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || out.empty()) {
    throw KafkaException(topic_err, "topic '" + topic + "' does not exist (" + rd_kafka_err2str(topic_err) + ")");
  }
  std::sort(out.begin(), out.end());
  return out;
}

rd_kafka_consumer_group_metadata_s* Consumer::group_metadata() const {
  return rd_kafka_consumer_group_metadata(handle_.get());
}

void Consumer::close() noexcept {
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(handle_.get());
  if (err) log_warn("consumer {} close: {}", name_, rd_kafka_err2str(err));
  queue_.reset();
}

}  // namespace streamml::kafka
