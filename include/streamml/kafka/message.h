// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Message: one consumed record (or a consumer event such as end-of-partition
// or an error). It owns the underlying librdkafka message and frees it when
// destroyed; key() and value() are views into that buffer, valid for the
// lifetime of the Message. Move-only. Not thread-safe; a Message may be moved
// to another thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "streamml/kafka/error.h"
#include "streamml/kafka/types.h"

struct rd_kafka_message_s;

namespace streamml::kafka {

class Message {
 public:
  Message() = default;
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;

  bool empty() const noexcept { return raw_ == nullptr; }
  // An error or event (including end-of-partition); check before using data.
  KafkaError error() const;
  // True when this is the end-of-partition event (enable.partition.eof).
  bool is_eof() const;

  std::string topic() const;
  // The topic name without a copy; valid while the Message lives.
  std::string_view topic_view() const;
  int32_t partition() const;
  int64_t offset() const;
  // Null key and empty key are different in Kafka: has_key() tells them apart.
  bool has_key() const;
  std::string_view key() const;
  std::string_view value() const;
  bool has_value() const;
  // Message timestamp in ms since the epoch, or -1 when none.
  int64_t timestamp_ms() const;
  // Copies the headers (empty when none).
  Headers headers() const;

 private:
  friend class Consumer;
  // Takes ownership of `raw` (may be null: an empty Message).
  explicit Message(rd_kafka_message_s* raw);

  struct Deleter {
    void operator()(rd_kafka_message_s* m) const noexcept;
  };
  std::unique_ptr<rd_kafka_message_s, Deleter> raw_;
};

}  // namespace streamml::kafka
