// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaError: a value wrapping librdkafka's rd_kafka_resp_err_t, with the
// classification callers need (is it an error at all, is it retriable, is it
// fatal for the client). Cheap to copy.
#pragma once

#include <string>

#include "streamml/common/error.h"

namespace streamml::kafka {

class KafkaError {
 public:
  KafkaError() = default;
  // `code` is an rd_kafka_resp_err_t. `detail` adds context (may be empty).
  explicit KafkaError(int code, std::string detail = {}, bool fatal = false,
                      bool retriable = false, bool requires_abort = false)
      : code_(code),
        detail_(std::move(detail)),
        fatal_(fatal),
        retriable_(retriable),
        requires_abort_(requires_abort) {}

  bool ok() const noexcept { return code_ == 0; }
  explicit operator bool() const noexcept { return code_ != 0; }  // true on error
  int code() const noexcept { return code_; }
  // librdkafka's symbolic name, e.g. "_TIMED_OUT" or "NOT_LEADER_FOR_PARTITION".
  std::string name() const;
  // Human-readable: "<name>: <librdkafka text>[: detail]".
  std::string message() const;
  bool is_fatal() const noexcept { return fatal_; }
  bool is_retriable() const noexcept { return retriable_; }
  // The record is larger than the producer's message.max.bytes (or the
  // topic's limit): this record is refused, the next ones are not.
  bool is_message_too_large() const noexcept;
  // The producer's local queue is full (queue.buffering.max.messages or
  // .kbytes): the record was not enqueued; serve delivery reports and retry.
  bool is_queue_full() const noexcept;
  // A transactional call failed so that the transaction must be aborted
  // before a new one begins.
  bool requires_abort() const noexcept { return requires_abort_; }
  // The group went on without this member (unknown member id, illegal
  // generation, rebalance in progress): its partitions were revoked, and a
  // commit it makes now is refused.
  bool is_membership_lost() const noexcept;
  // The requested offset is outside the partition's log (below its start
  // after retention, or past its end), reported by the broker or by the
  // client's auto.offset.reset=error.
  bool is_offset_out_of_range() const noexcept;

 private:
  int code_ = 0;
  std::string detail_;
  bool fatal_ = false;
  bool retriable_ = false;
  bool requires_abort_ = false;
};

// librdkafka error codes that streamml itself raises (rd_kafka_resp_err_t
// values, checked against librdkafka's in src/kafka/internal.cc).
inline constexpr int kErrFail = -196;            // RD_KAFKA_RESP_ERR__FAIL
inline constexpr int kErrMessageTimedOut = -192;  // RD_KAFKA_RESP_ERR__MSG_TIMED_OUT

// A Kafka operation failed in a way the caller cannot simply retry
// (see KafkaError for retriable/fatal classification).
class KafkaException : public Error {
 public:
  KafkaException(int code, const std::string& message) : Error(message), code_(code) {}
  // The librdkafka rd_kafka_resp_err_t value.
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// Throws KafkaException with `what` as context if `err` is an error.
void throw_if_error(const KafkaError& err, const std::string& what);

}  // namespace streamml::kafka
