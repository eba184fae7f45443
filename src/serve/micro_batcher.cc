// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/micro_batcher.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "streamml/common/logging.h"
#include "streamml/kafka/error.h"

namespace streamml::serve {

MicroBatcher::MicroBatcher(kafka::Consumer& consumer, size_t max_batch, std::chrono::microseconds max_wait,
                           const std::atomic<bool>& stop)
    : consumer_(consumer), max_batch_(max_batch), max_wait_(max_wait), stop_(stop) {}

void MicroBatcher::append(std::vector<kafka::Message>& polled) {
  for (auto& m : polled) {
    if (kafka::KafkaError err = m.error()) {
      if (m.is_eof()) continue;
      if (err.is_fatal()) throw kafka::KafkaException(err.code(), "consumer: " + err.message());
      log_warn("serve: consumer: {}", err.message());
      continue;
    }
    building_.push_back(std::move(m));
  }
}

void MicroBatcher::poll(std::chrono::milliseconds first_timeout) {
  using Clock = std::chrono::steady_clock;
  building_.clear();
  // poll_batch() waits for a full batch or its timeout: wait for the first
  // record with poll(), which returns as soon as one is there.
  std::vector<kafka::Message> polled;
  if (kafka::Message first = consumer_.poll(first_timeout); !first.empty()) polled.push_back(std::move(first));
  append(polled);
  if (building_.empty()) return;
  const auto deadline = Clock::now() + max_wait_;
  // The records already fetched always join (even with max_wait = 0).
  while (building_.size() < max_batch_ && !stop_.load()) {
    const auto remaining = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    polled = consumer_.poll_batch(max_batch_ - building_.size(),
                                  kafka::milliseconds(std::max<int64_t>(remaining, 0) / 1000));
    const bool got_none = polled.empty();
    append(polled);
    if (building_.empty() || remaining <= 0) break;  // everything was revoked, or time is up
    if (got_none && remaining < 1000) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(remaining, 100)));
    }
  }
}

void MicroBatcher::drop_partitions(const std::vector<kafka::TopicPartitionOffset>& parts) {
  std::erase_if(building_, [&](const kafka::Message& m) {
    for (const auto& p : parts) {
      if (p.partition == m.partition() && p.topic == m.topic()) return true;
    }
    return false;
  });
}

std::vector<kafka::Message> MicroBatcher::take() {
  std::vector<kafka::Message> out = std::move(building_);
  building_.clear();
  return out;
}

}  // namespace streamml::serve
