// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RecordReader: where a KafkaDataset's prefetch thread gets its records, one
// at a time and in the order they are to be returned. Two kinds: RangeReader
// (bounded ranges, read ahead in lanes) and GroupReader (a consumer-group
// stream).
//
// Thread-safety: none; the dataset's prefetch thread uses a reader.
#pragma once

#include <chrono>
#include <cstddef>

#include "streamml/kafka/message.h"

namespace streamml::data {

class RecordReader {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Status {
    kRecord,  // `out` holds the next record
    kIdle,    // no record this time (a poll round ended): check for a stop, then call again
    kEnd,     // no more records this epoch (bounded: the ranges were read; group: stream timeout)
  };

  // What the batch being filled allows a stream reader: a poll asks for at
  // most `room` records and waits at most until `deadline` (the batch's
  // wait ends then). Bounded readers ignore it.
  struct Limits {
    size_t room = 1;
    Clock::time_point deadline = Clock::time_point::max();
  };

  virtual ~RecordReader() = default;

  // The next record. Throws kafka::KafkaException for a fatal error and
  // DataLossError for records no longer in the log.
  virtual Status next(kafka::Message& out, const Limits& limits) = 0;
  // A batch is about to be handed over (the range reader files what
  // librdkafka fetched meanwhile, see RangeReader).
  virtual void before_handover() {}
  // The epoch ended before next() said kEnd (`take` was reached).
  virtual void end_early() {}
};

}  // namespace streamml::data
