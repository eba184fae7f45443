// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/dead_letter.h"

#include "streamml/common/error.h"
#include "streamml/kafka/producer.h"

namespace streamml::data {

DeadLetterProducer::DeadLetterProducer(kafka::Config config, std::string topic) : topic_(std::move(topic)) {
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
  kafka::throw_if_error(producer_->produce(record),
                        "dead-lettering " + meta.location() + " to topic '" + topic_ + "'");
  sent_.fetch_add(1, std::memory_order_relaxed);
}

void DeadLetterProducer::flush(kafka::milliseconds timeout) {
  kafka::FlushResult result = producer_->flush(timeout);
  if (!result.ok()) {
    throw KafkaException(-1, std::to_string(result.failed + result.still_queued) + " dead letter(s) to topic '" +
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
