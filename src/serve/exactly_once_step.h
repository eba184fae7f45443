// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ExactlyOnceStep: serves one micro-batch in one transaction of a
// transactional producer: begin -> the batch's outputs -> its offsets
// (send_offsets_to_transaction) -> commit. An abortable error aborts the
// transaction and rewinds the consumer to the batch's first offsets, so the
// batch is served again; a fatal producer error (fenced by a newer instance
// with the same transactional.id or a newer group generation) or an output
// the producer refused at once (OutputRefused) ends the service. Where the
// cluster does not store the transaction's offsets (librdkafka's mock
// cluster; kafka::Consumer::stores_transactional_offsets(), asked after the
// first committed transaction), they are committed with plain commits too.
//
// Thread-safety: one thread (the serving loop, which owns the consumer)
// uses it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "serve/delivery_pipeline.h"
#include "streamml/data/dead_letter.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/producer.h"

namespace streamml::serve {

class ExactlyOnceStep {
 public:
  // Produces the batch's outputs into the pipeline; returns its next offsets.
  using ServeBatch = std::function<std::vector<kafka::TopicPartitionOffset>()>;
  // A plain commit that failed (logged and counted by the caller).
  using CommitFailed = std::function<void(const char* what, const kafka::KafkaError& err)>;

  // Every reference must outlive the step; `dead_letters` may be null.
  ExactlyOnceStep(kafka::Producer& producer, kafka::Consumer& consumer, data::DeadLetterProducer* dead_letters,
                  DeliveryPipeline& pipeline, std::string transactional_id, CommitFailed commit_failed);

  // Serves `msgs` (through `serve`) in one transaction. Returns the offsets
  // the transaction committed, or nullopt when it was aborted and the
  // consumer rewound. Throws kafka::KafkaException on a fatal producer
  // error, on OutputRefused (after aborting) and when a transactional call
  // is still retriable after the transaction timeout (then nothing can be
  // aborted either). The pipeline is empty again when it returns.
  std::optional<std::vector<kafka::TopicPartitionOffset>> run(const std::vector<kafka::Message>& msgs,
                                                              const ServeBatch& serve);

  // The cluster does not store the transactions' offsets: they are committed
  // with plain commits as well (also the final one at stop).
  bool plain_commits() const { return plain_commits_; }

 private:
  // Seeks the consumer back to the first offset of each partition of `msgs`.
  void rewind(const std::vector<kafka::Message>& msgs);
  // Drops the batches of a finished transaction (committed or aborted).
  void forget_pipeline();

  kafka::Producer& producer_;
  kafka::Consumer& consumer_;
  data::DeadLetterProducer* const dead_letters_;
  DeliveryPipeline& pipeline_;
  const std::string transactional_id_;
  const CommitFailed commit_failed_;
  bool offsets_checked_ = false;  // stores_transactional_offsets() was asked
  bool plain_commits_ = false;
};

}  // namespace streamml::serve
