// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/dead_letter.h"

#include <algorithm>
#include <charconv>

#include "streamml/common/error.h"
#include "streamml/kafka/producer.h"

namespace streamml::data {
namespace {

// librdkafka's default message.max.bytes.
constexpr size_t kDefaultMaxMessageBytes = 1000000;
// Room left for librdkafka's per-record framing (the record's varints and
// the batch header count towards message.max.bytes) when truncating.
constexpr size_t kFramingAllowance = 512;

size_t max_message_bytes(const kafka::Config& config) {
  const std::string text = config.get("message.max.bytes").value_or("");
  size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value > 0 ? value : kDefaultMaxMessageBytes;
}

}  // namespace

DeadLetterProducer::DeadLetterProducer(kafka::Config config, std::string topic)
    : topic_(std::move(topic)), max_message_bytes_(max_message_bytes(config)) {
  if (topic_.empty()) throw ConfigError("the dead-letter topic name is empty (--dead-letter TOPIC)");
  producer_ = std::make_unique<kafka::Producer>(std::move(config));
  producer_->start_poll_thread();
}

DeadLetterProducer::~DeadLetterProducer() = default;

void DeadLetterProducer::send(const RecordMeta& meta, std::string_view payload, std::string_view reason) {
  kafka::ProduceRecord record;
  record.topic = topic_;
  if (meta.has_key) record.key = std::string_view(meta.key);
  record.value = payload;
  record.headers = {
      {kHeaderError, std::string(reason)},
      {kHeaderSourceTopic, meta.topic},
      {kHeaderSourcePartition, std::to_string(meta.partition)},
      {kHeaderSourceOffset, std::to_string(meta.offset)},
  };
  if (meta.timestamp_ms >= 0) record.headers.push_back({kHeaderSourceTimestamp, std::to_string(meta.timestamp_ms)});
  kafka::KafkaError err = producer_->produce(record);
  if (err.is_message_too_large()) {
    // A record that does not fit must not stop its pipeline for ever (every
    // restart would meet it again): its head goes, and the headers say so.
    record.headers.push_back({kHeaderTruncated, std::string("true")});
    record.headers.push_back({kHeaderOriginalSize, std::to_string(payload.size())});
    size_t overhead = kFramingAllowance + (record.key ? record.key->size() : 0);
    for (const auto& h : record.headers) overhead += h.name.size() + (h.value ? h.value->size() : 0);
    size_t keep = std::min(payload.size(), max_message_bytes_ > overhead ? max_message_bytes_ - overhead : 0);
    while (true) {
      record.value = payload.substr(0, keep);
      err = producer_->produce(record);
      if (!err.is_message_too_large() || keep == 0) break;
      keep /= 2;
    }
  }
  kafka::throw_if_error(err, "dead-lettering " + meta.location() + " to topic '" + topic_ + "'");
  sent_.fetch_add(1, std::memory_order_relaxed);
}

void DeadLetterProducer::flush(kafka::milliseconds timeout) {
  kafka::FlushResult result = producer_->flush(timeout);
  if (!result.ok()) {
    throw kafka::KafkaException(-1, std::to_string(result.failed + result.still_queued) + " dead letter(s) to topic '" +
                                 topic_ + "' were not delivered");
  }
}

DeadLetterSink DeadLetterProducer::sink() {
  return [this](const RecordMeta& meta, std::string_view payload, std::string_view reason) {
    send(meta, payload, reason);
  };
}

uint64_t DeadLetterProducer::sent() const { return sent_.load(); }

}  // namespace streamml::data
