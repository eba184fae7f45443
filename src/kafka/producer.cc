// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "internal.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/consumer.h"

namespace streamml::kafka {
namespace {

// A transactional call waits at most this long per attempt; a retriable
// failure is called again until the caller's timeout (see producer.h).
constexpr milliseconds kTxnAttempt{10000};
constexpr milliseconds kTxnRetryPause{100};
// The longest topic name Kafka accepts.
constexpr size_t kMaxTopicName = 249;

// Calls `call(attempt_timeout_ms)` until it succeeds, fails with an error that
// is not retriable, or `timeout` has passed. Returns the last error (owned by
// the caller), or nullptr.
template <typename Call>
rd_kafka_error_t* call_transactional(const std::string& producer, const char* what, milliseconds timeout,
                                     Call call) {
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    rd_kafka_error_t* error = call(static_cast<int>(std::clamp(left, milliseconds(1), kTxnAttempt).count()));
    if (error == nullptr || !rd_kafka_error_is_retriable(error) ||
        steady_clock::now() + kTxnRetryPause >= deadline) {
      return error;
    }
    log_warn("producer {}: {} failed and is called again: {}", producer, what, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    std::this_thread::sleep_for(kTxnRetryPause);
  }
}

}  // namespace

Producer::Producer(Config config, DeliveryCallback on_delivery) : on_delivery_(std::move(on_delivery)) {
  config.set_default("enable.idempotence", "true");
  // The Java client's partitioner (murmur2 of the key; no key: any
  // partition), so that one key lands in the same partition whichever
  // client (Java, Kafka Streams, KafkaJS, streamml) produced it. librdkafka's
  // own default hashes keys with CRC32.
  config.set_default("partitioner", "murmur2_random");
  ConfPtr conf = internal::make_conf(RD_KAFKA_PRODUCER, config);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::on_delivery_trampoline);
  handle_ = internal::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
  name_ = rd_kafka_name(handle_.get());
}

Producer::~Producer() { close(); }

void Producer::on_delivery_trampoline(rd_kafka_s*, const rd_kafka_message_s* msg, void* opaque) {
  static_cast<Producer*>(opaque)->handle_delivery(msg);
}

void Producer::handle_delivery(const rd_kafka_message_s* msg) {
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!on_delivery_) {
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log_warn("delivery to {}:{} failed: {}", msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?",
               msg->partition, rd_kafka_err2str(msg->err));
    }
    return;
  }
  // One report per thread, reused: its topic keeps its capacity, so a
  // report costs no allocation (delivery reports come per output record).
  thread_local DeliveryReport report;
  report.error = internal::to_error(msg->err);
  report.topic.assign(msg->rkt ? rd_kafka_topic_name(msg->rkt) : "");
  report.partition = msg->partition;
  report.offset = msg->offset;
  report.opaque = reinterpret_cast<uint64_t>(msg->_private);
  on_delivery_(report);
}

KafkaError Producer::produce(const ProduceRecord& record, milliseconds block_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + block_timeout;
  // librdkafka wants the name NUL-terminated; Kafka's names have at most 249
  // characters, so a copy on the stack does (no allocation per record).
  char topic_buf[kMaxTopicName + 1];
  std::string long_topic;  // a longer name, which the broker then refuses
  const char* topic = topic_buf;
  if (record.topic.size() <= kMaxTopicName) {
    record.topic.copy(topic_buf, record.topic.size());
    topic_buf[record.topic.size()] = '\0';
  } else {
    long_topic.assign(record.topic);
    topic = long_topic.c_str();
  }
  while (true) {
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const auto& h : record.headers) {
        rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()),
                            h.value ? h.value->data() : nullptr,
                            h.value ? static_cast<ssize_t>(h.value->size()) : 0);
      }
    }
    const void* key = record.key ? record.key->data() : nullptr;
    size_t key_len = record.key ? record.key->size() : 0;
    // An empty non-null key must stay non-null.
    static const char kEmpty = '\0';
    if (record.key && key == nullptr) key = &kEmpty;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        handle_.get(), RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(record.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_TIMESTAMP(record.timestamp_ms),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(record.opaque)),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    if (headers != nullptr) rd_kafka_headers_destroy(headers);  // not consumed on failure
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() >= deadline) {
      return internal::to_error(err, "producing to " + std::string(topic));
    }
    if (!poll_thread_.joinable()) {
      rd_kafka_poll(handle_.get(), 10);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

int Producer::poll(milliseconds timeout) {
  return rd_kafka_poll(handle_.get(), static_cast<int>(timeout.count()));
}

FlushResult Producer::flush(milliseconds timeout) {
  rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count()));
  FlushResult result;
  result.still_queued = rd_kafka_outq_len(handle_.get());
  result.failed = failed_.load();
  return result;
}

void Producer::start_poll_thread() {
  if (poll_thread_.joinable()) return;
  stop_poll_ = false;
  poll_thread_ = std::thread([this] {
    while (!stop_poll_.load(std::memory_order_relaxed)) rd_kafka_poll(handle_.get(), 50);
  });
}

KafkaError Producer::fatal_error() const {
  char reason[512] = {};
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return KafkaError(err, reason, /*fatal=*/true);
}

int64_t Producer::in_flight() const { return rd_kafka_outq_len(handle_.get()); }

void Producer::throw_txn_error(rd_kafka_error_s* error, const char* what) {
  if (error == nullptr) return;
  ErrorPtr owned(error);
  KafkaError err = internal::to_error(error);
  const bool requires_abort = rd_kafka_error_txn_requires_abort(error) != 0;
  std::string message = std::string(what) + ": " + err.message();
  if (requires_abort) message += " (transaction must be aborted)";
  throw TransactionError(err.code(), message, err.is_retriable(), requires_abort, err.is_fatal());
}

void Producer::init_transactions(milliseconds timeout) {
  throw_txn_error(call_transactional(name_, "init_transactions", timeout,
                                     [&](int ms) { return rd_kafka_init_transactions(handle_.get(), ms); }),
                  "init_transactions");
}

void Producer::begin_transaction() {
  throw_txn_error(rd_kafka_begin_transaction(handle_.get()), "begin_transaction");
}

void Producer::send_offsets_to_transaction(const std::vector<TopicPartitionOffset>& offsets,
                                           const Consumer& consumer, milliseconds timeout) {
  PartitionListPtr list = internal::to_list(offsets);
  rd_kafka_consumer_group_metadata_t* metadata = consumer.group_metadata();
  rd_kafka_error_t* error = call_transactional(name_, "send_offsets_to_transaction", timeout, [&](int ms) {
    return rd_kafka_send_offsets_to_transaction(handle_.get(), list.get(), metadata, ms);
  });
  rd_kafka_consumer_group_metadata_destroy(metadata);
  throw_txn_error(error, "send_offsets_to_transaction");
}

void Producer::commit_transaction(milliseconds timeout) {
  throw_txn_error(call_transactional(name_, "commit_transaction", timeout,
                                     [&](int ms) { return rd_kafka_commit_transaction(handle_.get(), ms); }),
                  "commit_transaction");
}

void Producer::abort_transaction(milliseconds timeout) {
  throw_txn_error(call_transactional(name_, "abort_transaction", timeout,
                                     [&](int ms) { return rd_kafka_abort_transaction(handle_.get(), ms); }),
                  "abort_transaction");
}

void Producer::close(milliseconds timeout) noexcept {
  if (closed_) return;
  closed_ = true;
  if (poll_thread_.joinable()) {
    stop_poll_ = true;
    poll_thread_.join();
  }
  if (!handle_) return;
  rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count()));
  int left = rd_kafka_outq_len(handle_.get());
  if (left > 0) log_warn("producer {} closed with {} undelivered record(s)", name_, left);
}

}  // namespace streamml::kafka
