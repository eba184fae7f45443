// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// AtLeastOnceStep: serving without transactions. A micro-batch's outputs are
// produced and the loop goes on; once a batch and every batch before it are
// acknowledged, retire() takes them off the delivery pipeline and hands
// their next offsets to the CommitTracker, which commits them. An offset is
// never committed past an output that was not delivered. Back-pressure:
// wait_for_room() holds the next micro-batch until it fits in the in-flight
// limit. drain() waits for every output in flight (at stop, on a revocation,
// after a delivery failure).
//
// Thread-safety: one thread (the serving loop, which owns the consumer and
// runs its rebalance callbacks) uses it; delivery reports reach the
// pipeline, not the step.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "serve/commit_tracker.h"
#include "serve/delivery_pipeline.h"
#include "streamml/data/dead_letter.h"
#include "streamml/kafka/producer.h"
#include "streamml/kafka/types.h"
#include "streamml/serve/metrics.h"

namespace streamml::serve {

class AtLeastOnceStep {
 public:
  // `records` input records in `batches` batches left the pipeline, fully
  // acknowledged; `offsets` are their next offsets (also handed to the
  // CommitTracker).
  using Completed =
      std::function<void(size_t records, size_t batches, const std::vector<kafka::TopicPartitionOffset>& offsets)>;
  // `records` input records left the pipeline uncommitted (drain without a
  // commit: they will be read again).
  using Abandoned = std::function<void(size_t records)>;

  // Every reference must outlive the step; `dead_letters` may be null.
  // `output_topic` names the outputs in errors.
  AtLeastOnceStep(kafka::Producer& producer, DeliveryPipeline& pipeline, CommitTracker& commits,
                  data::DeadLetterProducer* dead_letters, ServeMetrics& metrics, InFlightLimit limit,
                  std::string output_topic, Completed completed, Abandoned abandoned);

  // Commits the offsets of the fully acknowledged batches at the head of the
  // pipeline (synchronously when `sync`, else when the CommitTracker's
  // interval has passed). Throws kafka::KafkaException when the next batch
  // had an output that was not delivered, after committing the batches
  // before it.
  void retire(bool sync);

  // Retires the acknowledged batches and waits until a micro-batch of
  // `incoming` records fits in the in-flight limit (or a delivery failed).
  void wait_for_room(size_t incoming);

  // Waits for every output in flight and commits the acknowledged batches
  // (synchronously; not at all unless `commit`: they leave uncommitted).
  // Throws kafka::KafkaException when an output was not delivered or not
  // acknowledged in time.
  void drain(bool commit);

 private:
  kafka::Producer& producer_;
  DeliveryPipeline& pipeline_;
  CommitTracker& commits_;
  data::DeadLetterProducer* const dead_letters_;
  ServeMetrics& metrics_;
  const InFlightLimit limit_;
  const std::string output_topic_;
  const Completed completed_;
  const Abandoned abandoned_;
};

}  // namespace streamml::serve
