// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// MicroBatcher: polls a consumer into micro-batches. A batch starts with the
// first record (waiting for it up to a poll timeout), takes every record
// already fetched, and closes at max_batch records or max_wait after its
// first record. Records of partitions revoked while the batch is being built
// leave it (drop_partitions(), from the rebalance callback, which runs inside
// the consumer's poll).
//
// Thread-safety: one thread (the consumer's owner) uses it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <vector>

#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/types.h"

namespace streamml::serve {

class MicroBatcher {
 public:
  // `consumer` and `stop` must outlive the batcher; `stop` true ends the
  // building of a batch early (with what it has).
  MicroBatcher(kafka::Consumer& consumer, size_t max_batch, std::chrono::microseconds max_wait,
               const std::atomic<bool>& stop);

  // Polls one micro-batch (replacing the one held): waits up to
  // `first_timeout` for a first record; none: the batch stays empty.
  // Consumer events are logged; fatal errors throw kafka::KafkaException.
  void poll(std::chrono::milliseconds first_timeout);
  // Drops the records of these partitions from the batch being built.
  void drop_partitions(const std::vector<kafka::TopicPartitionOffset>& parts);
  // Moves the batch out (empty when nothing was polled).
  std::vector<kafka::Message> take();
  bool empty() const { return building_.empty(); }

 private:
  // Appends the records of `polled` to the batch (events are logged; fatal
  // errors throw).
  void append(std::vector<kafka::Message>& polled);

  kafka::Consumer& consumer_;
  const size_t max_batch_;
  const std::chrono::microseconds max_wait_;
  const std::atomic<bool>& stop_;
  std::vector<kafka::Message> building_;  // the micro-batch being polled
};

}  // namespace streamml::serve
