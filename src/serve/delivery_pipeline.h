// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// DeliveryPipeline: the micro-batches whose outputs were produced and whose
// delivery reports are awaited, oldest first (at-least-once; exactly-once
// holds at most the batch of the open transaction). A batch is retired (its
// offsets may be committed) once it and every batch before it are fully
// acknowledged; a batch with an output that was not delivered stops the
// retirement there, so no offset past an undelivered output is ever handed
// out. Back-pressure: wait_for_room() holds the next micro-batch back while
// the batches in flight hold too many input records or output bytes
// (InFlightLimit).
//
// Each produced output has a PendingOutput whose address is the produce
// opaque: its delivery report finds its batch (and the input's timestamp and
// coordinates, for the latency metric and the on_acknowledged hook). Every
// output of a batch is counted before the first is produced (reports can
// come back while the batch is still being produced); an output the
// producer refuses at once gets no report and leaves the count (refuse()).
//
// Thread-safety: one thread (the serving loop) pushes, tracks, refuses,
// retires and waits; acknowledge() is called from the producer's delivery
// thread (or the thread in flush()). The batches' acknowledgement state and
// the queue are guarded by the pipeline's own mutex. Pushed batches keep
// their address until they leave the pipeline.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "streamml/kafka/error.h"
#include "streamml/kafka/types.h"
#include "streamml/serve/metrics.h"

namespace streamml::serve {

// An output the producer refused at once for a reason other than its size:
// ends the service (exactly-once: after aborting the transaction, without
// rewinding, since serving the batch again would meet the same refusal).
class OutputRefused : public kafka::KafkaException {
 public:
  using kafka::KafkaException::KafkaException;
};

struct InFlightBatch;

// How much may be in flight before the next micro-batch waits.
struct InFlightLimit {
  size_t records = 0;  // input records of the batches in flight, the incoming batch included
  size_t bytes = 0;    // bytes of the outputs in flight (keys, values, headers)
};

// One produced output; its address is the produce opaque.
struct PendingOutput {
  InFlightBatch* batch = nullptr;
  int64_t input_timestamp_ms = -1;
  const std::string* input_topic = nullptr;  // outlives the pipeline (for on_acknowledged)
  int32_t input_partition = -1;
  int64_t input_offset = -1;
};

// One micro-batch in flight. `offsets`, `records`, `dead_letters` and
// `outputs` belong to the serving loop; `unacknowledged`, `failure` and
// `failure_code` are guarded by the pipeline's mutex.
struct InFlightBatch {
  std::vector<kafka::TopicPartitionOffset> offsets;  // next offsets to commit, per partition
  size_t records = 0;                                // input records
  size_t dead_letters = 0;                           // sent to the dead-letter producer
  std::vector<PendingOutput> outputs;                // reserved up front: addresses are stable
  size_t bytes = 0;                                  // of its outputs (add_bytes())
  size_t unacknowledged = 0;                         // outputs without a delivery report
  std::string failure;                               // first delivery error, "" = none
  int failure_code = 0;                              // its KafkaError code
};

class DeliveryPipeline {
 public:
  // The batches retire() took off the head, oldest first, and the failure
  // that stopped it there ("" when none did).
  struct Retired {
    std::vector<std::unique_ptr<InFlightBatch>> batches;
    std::string failure;
    int failure_code = 0;
  };
  // The batch at the head of a pipeline that could not be emptied.
  struct Stuck {
    bool failed = false;  // an output was not delivered (else: not acknowledged in time)
    std::string failure;
    int failure_code = 0;
  };

  // `metrics` (optional) counts the outputs in flight; it must outlive the
  // pipeline.
  explicit DeliveryPipeline(ServeMetrics* metrics = nullptr) : metrics_(metrics) {}
  DeliveryPipeline(const DeliveryPipeline&) = delete;
  DeliveryPipeline& operator=(const DeliveryPipeline&) = delete;

  // A new batch of `records` input records at the end of the pipeline,
  // expecting `num_outputs` delivery reports (room reserved for that many
  // outputs).
  InFlightBatch& push(size_t records, size_t num_outputs);
  // Adds an output of `batch` (one of its reserved ones) and returns the
  // opaque to produce it with.
  static uint64_t track(InFlightBatch& batch, const PendingOutput& output);
  // Counts `bytes` more of `batch`'s produced outputs (towards
  // InFlightLimit::bytes) until the batch leaves.
  void add_bytes(InFlightBatch& batch, size_t bytes);
  // The output a delivery report's opaque names (nullptr: none).
  static PendingOutput* output_of(uint64_t opaque) { return reinterpret_cast<PendingOutput*>(opaque); }

  // The last output tracked for `batch` was refused by the producer at once:
  // it leaves the batch (and its count). Unless `fails_batch` is false (an
  // output too large, served as a bad record instead), `reason` becomes the
  // batch's failure, which stops retirement at it.
  void refuse(InFlightBatch& batch, const std::string& reason, int code, bool fails_batch);

  // Whether this is the first delivery failure (sets delivery_failed()).
  bool note_delivery_failure() { return !delivery_failed_.exchange(true); }
  // Some output was not delivered. Lock-free.
  bool delivery_failed() const { return delivery_failed_.load(); }

  // A delivery report of `output` (nullptr: not one of the pipeline's; then
  // nothing happens): an error becomes the batch's failure unless it has one.
  void acknowledge(PendingOutput* output, const kafka::KafkaError& error);

  // Takes the fully acknowledged batches at the head, stopping at the first
  // one whose outputs failed (which stays, named in the result).
  Retired retire();
  // Whether a micro-batch of `incoming` records fits: the pipeline is empty,
  // or its batches hold at most limit.records - incoming records and at most
  // limit.bytes output bytes, or a delivery failed. When it does not, waits
  // up to `wait` for the head batch to be acknowledged (or a failure) and
  // returns false: retire, then ask again.
  bool wait_for_room(size_t incoming, const InFlightLimit& limit, std::chrono::milliseconds wait);
  // Waits up to `timeout` for every batch to be fully acknowledged; returns
  // whether they were.
  bool wait_acknowledged(std::chrono::milliseconds timeout);
  // Drops every fully acknowledged batch (failed or not) after a finished
  // transaction; a batch still waiting for a report stays (the report
  // points into it).
  void forget_acknowledged();
  // The head batch when the pipeline is not empty.
  std::optional<Stuck> stuck() const;

  bool empty() const;
  // Input records of the batches in the pipeline.
  size_t records() const;
  // Output bytes of the batches in the pipeline (add_bytes()).
  size_t bytes() const;

 private:
  ServeMetrics* const metrics_;
  std::atomic<bool> delivery_failed_{false};
  mutable std::mutex mu_;                              // guards the batches' ack state and batches_
  std::condition_variable cv_;                         // a batch was fully acknowledged
  std::deque<std::unique_ptr<InFlightBatch>> batches_;  // oldest first
  size_t records_ = 0;                                 // input records of batches_
  size_t bytes_ = 0;                                   // output bytes of batches_
};

}  // namespace streamml::serve
