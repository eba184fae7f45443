// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Producer: asynchronous produce with key, explicit partition or the
// configured partitioner, headers and timestamp. Delivery reports arrive as
// DeliveryReport values through an optional callback (run on the thread that
// calls poll()/flush(), or on the producer's own poll thread if
// start_poll_thread() was called). Idempotence is on by default
// (enable.idempotence=true unless the config says otherwise). Keys are
// partitioned as the Java client does (partitioner=murmur2_random unless the
// config says otherwise), so records of one key from any client share a
// partition.
//
// Payloads are copied by librdkafka at produce() time: callers may free their
// buffers as soon as produce() returns.
//
// Thread-safety: produce(), poll() and flush() are safe to call from several
// threads (librdkafka's producer is thread-safe). Transactions must be driven
// from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/kafka/config.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/handle.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka {

class Consumer;

// A transactional call failed. What to do next follows librdkafka:
// retriable(): call the same function again, which resumes the operation
// (a commit that timed out is still in progress: aborting is refused until
// it finishes); requires_abort(): abort_transaction(), then begin a new
// transaction; fatal(): the producer can no longer be used (e.g. fenced by a
// newer instance with the same transactional.id).
class TransactionError : public KafkaException {
 public:
  TransactionError(int code, const std::string& message, bool retriable, bool requires_abort, bool fatal)
      : KafkaException(code, message), retriable_(retriable), requires_abort_(requires_abort), fatal_(fatal) {}
  bool retriable() const noexcept { return retriable_; }
  bool requires_abort() const noexcept { return requires_abort_; }
  bool fatal() const noexcept { return fatal_; }

 private:
  bool retriable_;
  bool requires_abort_;
  bool fatal_;
};

// One record to produce. Views must stay valid only until produce() returns.
struct ProduceRecord {
  std::string_view topic;
  int32_t partition = kPartitionAny;       // kPartitionAny: use the partitioner
  std::optional<std::string_view> key;     // nullopt: null key
  std::string_view value;
  Headers headers;
  int64_t timestamp_ms = 0;                // 0: now (set by librdkafka)
  uint64_t opaque = 0;                     // returned in the DeliveryReport
};

struct DeliveryReport {
  KafkaError error;                        // ok() when delivered
  std::string topic;
  int32_t partition = kPartitionAny;
  int64_t offset = kOffsetInvalid;         // assigned offset when delivered
  uint64_t opaque = 0;
};

using DeliveryCallback = std::function<void(const DeliveryReport&)>;

// What flush() could not do.
struct FlushResult {
  int64_t still_queued = 0;   // not yet delivered when the timeout expired
  int64_t failed = 0;         // delivery reports with an error since construction
  bool ok() const { return still_queued == 0 && failed == 0; }
};

class Producer {
 public:
  // Throws ConfigError for invalid configuration, KafkaException when the
  // client cannot be created.
  explicit Producer(Config config, DeliveryCallback on_delivery = {});
  ~Producer();  // close(): flushes for up to kDefaultCloseTimeout; never throws
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  Producer(Producer&&) = delete;
  Producer& operator=(Producer&&) = delete;

  // Enqueues a record. When the local queue is full it serves delivery
  // reports and retries for up to `block_timeout`; then returns
  // _QUEUE_FULL. Other errors: unknown topic/partition, message too large.
  KafkaError produce(const ProduceRecord& record,
                     milliseconds block_timeout = kDefaultTimeout);

  // Serves delivery reports; returns how many were served.
  int poll(milliseconds timeout = milliseconds(0));

  // Waits until every queued record was delivered or failed, or the timeout.
  FlushResult flush(milliseconds timeout = kDefaultFlushTimeout);

  // Serves delivery reports on a background thread owned by this producer
  // until close(). Use when the caller does not poll.
  void start_poll_thread();

  // Records queued or in flight.
  int64_t in_flight() const;
  int64_t delivered_count() const { return delivered_.load(); }
  int64_t failed_count() const { return failed_.load(); }

  // Transactions (requires transactional.id). Each throws TransactionError on
  // failure, which says whether to call again, abort, or give up. A call that
  // fails with a retriable error (e.g. it timed out while the transaction
  // coordinator was unreachable) is called again, which librdkafka resumes,
  // until `timeout` has passed in all (each attempt waits up to 10 s); the
  // error thrown after that is still retriable.
  void init_transactions(milliseconds timeout = kDefaultTimeout);
  void begin_transaction();
  // Adds the consumer's offsets (next offsets to read) to the transaction.
  void send_offsets_to_transaction(const std::vector<TopicPartitionOffset>& offsets,
                                   const Consumer& consumer,
                                   milliseconds timeout = kDefaultTimeout);
  void commit_transaction(milliseconds timeout = kDefaultTimeout);
  void abort_transaction(milliseconds timeout = kDefaultTimeout);

  // The error that made this producer unusable (e.g. fenced by a newer
  // instance with the same transactional.id), with librdkafka's reason as
  // its detail; ok() while the producer works.
  KafkaError fatal_error() const;
  // Flushes and stops the poll thread. Idempotent; never throws.
  void close(milliseconds timeout = kDefaultCloseTimeout) noexcept;

  const std::string& name() const { return name_; }

 private:
  static void on_delivery_trampoline(rd_kafka_s*, const rd_kafka_message_s*, void*);
  void handle_delivery(const rd_kafka_message_s* msg);
  void throw_txn_error(rd_kafka_error_s* error, const char* what);

  HandlePtr handle_;
  std::string name_;
  DeliveryCallback on_delivery_;
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<bool> stop_poll_{false};
  std::thread poll_thread_;
  bool closed_ = false;
};

}  // namespace streamml::kafka
