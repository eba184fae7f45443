// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/message.h"

#include <librdkafka/rdkafka.h>

#include "internal.h"

namespace streamml::kafka {

Message::Message(rd_kafka_message_s* raw) : raw_(raw) {}

void Message::Deleter::operator()(rd_kafka_message_s* m) const noexcept { rd_kafka_message_destroy(m); }

KafkaError Message::error() const {
  if (!raw_ || raw_->err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  std::string detail;
  if (raw_->payload != nullptr && raw_->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    detail.assign(static_cast<const char*>(raw_->payload), raw_->len);
  }
  if (raw_->rkt != nullptr) {
    detail += (detail.empty() ? "" : " ") + std::string("(") + rd_kafka_topic_name(raw_->rkt) + ":" +
              std::to_string(raw_->partition) + " at offset " + std::to_string(raw_->offset) + ")";
  }
  return internal::to_error(raw_->err, detail);
}

bool Message::is_eof() const { return raw_ && raw_->err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }

std::string Message::topic() const {
  return raw_ && raw_->rkt ? rd_kafka_topic_name(raw_->rkt) : std::string();
}
std::string_view Message::topic_view() const {
  return raw_ && raw_->rkt ? std::string_view(rd_kafka_topic_name(raw_->rkt)) : std::string_view();
}
int32_t Message::partition() const { return raw_ ? raw_->partition : -1; }
int64_t Message::offset() const { return raw_ ? raw_->offset : kOffsetInvalid; }
bool Message::has_key() const { return raw_ && raw_->key != nullptr; }

std::string_view Message::key() const {
  if (!raw_ || raw_->key == nullptr) return {};
  return {static_cast<const char*>(raw_->key), raw_->key_len};
}

std::string_view Message::value() const {
  if (!raw_ || raw_->payload == nullptr) return {};
  return {static_cast<const char*>(raw_->payload), raw_->len};
}

bool Message::has_value() const { return raw_ && raw_->payload != nullptr; }

int64_t Message::timestamp_ms() const {
  if (!raw_) return -1;
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(raw_.get(), &type);
  return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
}

Headers Message::headers() const {
  Headers out;
  if (!raw_) return out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(raw_.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || hdrs == nullptr) {
    return out;
  }
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    Header h{name, std::nullopt};
    if (value != nullptr) h.value = std::string(static_cast<const char*>(value), size);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace streamml::kafka
