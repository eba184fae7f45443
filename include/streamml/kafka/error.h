// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaError: a value wrapping librdkafka's rd_kafka_resp_err_t, with the
// classification callers need (is it an error at all, is it retriable, is it
// fatal for the client). Cheap to copy.
#pragma once

#include <string>

namespace streamml::kafka {

class KafkaError {
 public:
  KafkaError() = default;
  // `code` is an rd_kafka_resp_err_t. `detail` adds context (may be empty).
  explicit KafkaError(int code, std::string detail = {}, bool fatal = false,
                      bool retriable = false)
      : code_(code), detail_(std::move(detail)), fatal_(fatal), retriable_(retriable) {}

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

 private:
  int code_ = 0;
  std::string detail_;
  bool fatal_ = false;
  bool retriable_ = false;
};

// Throws KafkaException (common/error.h) with `what` as context if `err` is an error.
void throw_if_error(const KafkaError& err, const std::string& what);

}  // namespace streamml::kafka
