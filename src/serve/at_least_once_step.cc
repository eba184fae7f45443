// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/at_least_once_step.h"

#include <chrono>
#include <map>
#include <utility>

#include "streamml/kafka/error.h"

namespace streamml::serve {

AtLeastOnceStep::AtLeastOnceStep(kafka::Producer& producer, DeliveryPipeline& pipeline, CommitTracker& commits,
                                 data::DeadLetterProducer* dead_letters, ServeMetrics& metrics, InFlightLimit limit,
                                 std::string output_topic, Completed completed, Abandoned abandoned)
    : producer_(producer),
      pipeline_(pipeline),
      commits_(commits),
      dead_letters_(dead_letters),
      metrics_(metrics),
      limit_(limit),
      output_topic_(std::move(output_topic)),
      completed_(std::move(completed)),
      abandoned_(std::move(abandoned)) {}

void AtLeastOnceStep::retire(bool sync) {
  DeliveryPipeline::Retired retired = pipeline_.retire();
  const auto& done = retired.batches;
  if (!done.empty()) {
    size_t dead = 0;
    for (const auto& b : done) dead += b->dead_letters;
    // A dead letter is a served record too: its offset is committed only
    // once it was delivered (flush() throws when it was not).
    if (dead > 0 && dead_letters_ != nullptr) dead_letters_->flush();
    NextOffsets next;
    size_t records = 0;
    for (const auto& b : done) {
      records += b->records;
      metrics_.record_batch(b->records);
      for (const auto& o : b->offsets) next[{o.topic, o.partition}] = o.offset;
    }
    const std::vector<kafka::TopicPartitionOffset> offsets = offsets_of(next);
    commits_.acknowledged(offsets, /*to_commit=*/true);
    completed_(records, done.size(), offsets);
  }
  commits_.commit(/*now=*/sync || !retired.failure.empty());
  if (!retired.failure.empty()) {
    throw kafka::KafkaException(retired.failure_code, "outputs to '" + output_topic_ + "' were not delivered (" +
                                                          retired.failure +
                                                          "); their offsets and later ones are not committed");
  }
}

void AtLeastOnceStep::wait_for_room(size_t incoming) {
  do {
    retire(/*sync=*/false);
  } while (!pipeline_.wait_for_room(incoming, limit_, std::chrono::milliseconds(100)));
}

void AtLeastOnceStep::drain(bool commit) {
  if (pipeline_.empty()) {
    if (commit) retire(/*sync=*/true);  // what was acknowledged but not yet committed
    return;
  }
  producer_.flush();
  // flush() returns once the reports were served; the poll thread may still
  // be finishing the last callback.
  pipeline_.wait_acknowledged(std::chrono::seconds(5));
  if (commit) {
    retire(/*sync=*/true);
  } else {
    const DeliveryPipeline::Retired retired = pipeline_.retire();  // the acknowledged batches leave, uncommitted
    size_t left = 0;
    for (const auto& b : retired.batches) left += b->records;
    abandoned_(left);
  }
  if (const auto stuck = pipeline_.stuck()) {
    throw kafka::KafkaException(stuck->failed ? stuck->failure_code : kafka::kErrMessageTimedOut,
                                "outputs to '" + output_topic_ + "' were not " +
                                    (stuck->failed ? "delivered (" + stuck->failure + ")" : "acknowledged in time") +
                                    "; their offsets are not committed");
  }
}

}  // namespace streamml::serve
