// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/output_sequence.h"

#include <fmt/format.h>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/producer.h"

namespace streamml::data {

OutputSequence::OutputSequence(OutputSequenceOptions options) : options_(std::move(options)) {
  if (options_.topic.empty()) throw ConfigError("output sequence: the topic is empty");
  if (options_.first_index < 0) {
    throw ConfigError(fmt::format("output sequence: first_index {} must be >= 0", options_.first_index));
  }
  if (options_.partition < kafka::kPartitionAny) {
    throw ConfigError(fmt::format("output sequence: partition {} is invalid", options_.partition));
  }
  next_index_ = options_.first_index;
  // Ordering across retries needs idempotence (the producer's default); keep
  // it unless the user explicitly chose otherwise.
  producer_ = std::make_unique<kafka::Producer>(options_.config, [this](const kafka::DeliveryReport& report) {
    if (!report.error.ok()) on_delivery_failure(report.opaque, report.error.message());
  });
  producer_->start_poll_thread();
}

OutputSequence::~OutputSequence() {
  int64_t held_items = held();
  if (held_items > 0) {
    log_warn("output sequence '{}': {} item(s) were never written: index {} was never set", options_.topic,
             held_items, next_index());
  }
  producer_->close();  // never throws
}

void OutputSequence::set(int64_t index, std::string_view value) {
  OutputItem item;
  item.value.assign(value.data(), value.size());
  set(index, std::move(item));
}

void OutputSequence::set(int64_t index, OutputItem item) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < options_.first_index) {
    throw InputError(fmt::format("output sequence '{}': index {} is before the first index {}", options_.topic,
                                 index, options_.first_index));
  }
  if (index < next_index_) {
    throw InputError(fmt::format("output sequence '{}': index {} was already written", options_.topic, index));
  }
  if (!pending_.emplace(index, std::move(item)).second) {
    throw InputError(fmt::format("output sequence '{}': index {} was set twice", options_.topic, index));
  }
  write_ready();
}

void OutputSequence::write_ready() {
  for (auto it = pending_.begin(); it != pending_.end() && it->first == next_index_; it = pending_.begin()) {
    const OutputItem& item = it->second;
    kafka::ProduceRecord record;
    record.topic = options_.topic;
    record.partition = options_.partition != kafka::kPartitionAny ? options_.partition : item.partition;
    if (item.key) record.key = std::string_view(*item.key);
    record.value = item.value;
    record.headers = item.headers;
    record.opaque = static_cast<uint64_t>(it->first);
    kafka::KafkaError err = producer_->produce(record, options_.produce_timeout);
    if (err) {
      // The item stays pending at next_index_: nothing after it is written
      // out of order, and the caller learns which index failed.
      throw kafka::KafkaException(err.code(), fmt::format("output sequence '{}': cannot produce index {}: {}",
                                                   options_.topic, it->first, err.message()));
    }
    pending_.erase(it);
    ++next_index_;
  }
}

void OutputSequence::on_delivery_failure(uint64_t index, const std::string& reason) {
  std::lock_guard<std::mutex> lock(failure_mu_);
  if (failures_++ == 0) first_failure_ = fmt::format("index {}: {}", index, reason);
}

OutputFlushResult OutputSequence::flush(kafka::milliseconds timeout) {
  kafka::FlushResult flushed = producer_->flush(timeout);
  OutputFlushResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    result.written = next_index_ - options_.first_index;
    result.held = static_cast<int64_t>(pending_.size());
    result.next_index = next_index_;
  }
  result.delivered = producer_->delivered_count();
  std::lock_guard<std::mutex> lock(failure_mu_);
  if (failures_ > 0) {
    throw kafka::KafkaException(-1, fmt::format("output sequence '{}': {} item(s) were not delivered; first: {}",
                                         options_.topic, failures_, first_failure_));
  }
  if (flushed.still_queued > 0) {
    throw kafka::KafkaException(-185 /* _TIMED_OUT */,
                         fmt::format("output sequence '{}': {} item(s) still undelivered after {} ms",
                                     options_.topic, flushed.still_queued, timeout.count()));
  }
  return result;
}

int64_t OutputSequence::next_index() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_index_;
}

int64_t OutputSequence::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(pending_.size());
}

}  // namespace streamml::data
