// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ChunkDecoder: decodes chunks of Kafka records on a pool of worker threads
// and hands the results back in the order the chunks were submitted. The
// dataset's prefetch thread reads records in their order and cuts them into
// chunks; decoding (the costly part: parsing text into floats, building each
// record's meta) runs on the workers, and the prefetch thread only assembles
// the decoded rows into batches, so the order is exactly the serial one.
//
// A chunk's good rows come back in segments of at most `segment_rows` rows
// (record i of a chunk without rejections lands in segment i / segment_rows):
// with segment_rows = batch_size, a chunk without rejections is a run of
// whole batches that need no copying. Rejected records come back with their
// payload and reason, at their place among the rows, for the caller to apply
// its bad-record policy in order.
//
// Thread-safety: submit(), next(), in_flight() and discard() are for one
// thread (the owner); the workers are internal.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/batch_builder.h"
#include "data/range_reader.h"
#include "streamml/kafka/message.h"

namespace streamml::data {

// Records read in order, all of one bounded range (`pass`, `range`) or of a
// stream (pass and range unused).
struct RecordChunk {
  int pass = 0;
  size_t range = 0;
  std::vector<kafka::Message> records;
};

struct DecodedChunk {
  // A record the RowDecoder rejected.
  struct Rejected {
    size_t rows_before = 0;  // good rows of the chunk before it
    RecordMeta meta;
    std::string payload;
    RowDecoder::Rejection rejection;
  };

  int pass = 0;
  size_t range = 0;
  size_t records = 0;
  std::vector<Batch> segments;     // the good rows, in order
  std::vector<Rejected> rejected;  // in order
  std::exception_ptr error;        // decoding threw (a check that threw): rethrown by the owner
};

// Feeds the rows and rejections of `chunk`, in record order, to `builder`:
// `note` sees each record's meta before it is added or rejected (position
// bookkeeping); `emit` takes each batch completed (false: stop). Segments
// that are whole batches pass through without copying. Rethrows the chunk's
// error, and InputError from the builder's kFail policy.
enum class Assembled {
  kDone,      // every record of the chunk was added or rejected
  kStopped,   // emit returned false
  kTakeDone,  // the builder's `take` was reached (records after it were dropped)
};
Assembled assemble(DecodedChunk& chunk, BatchBuilder& builder, const std::function<void(const RecordMeta&)>& note,
                   const std::function<bool(Batch)>& emit);

// Records per chunk for batches of `batch_size`: a multiple of it, so that a
// chunk's rows are whole batches, of at least a few hundred records (a hand-
// over costs microseconds) and at most a few thousand.
size_t chunk_records_for(size_t batch_size);

class ChunkDecoder;

// What read_in_chunks() reports to its caller.
struct ChunkedReadHooks {
  // Each record, in order, before it is added or rejected, with the read
  // position after it.
  std::function<void(const RecordMeta&, const BoundedPosition&)> note;
  std::function<bool(Batch)> emit;  // a completed batch; false: stop
  std::function<bool()> stopping;   // looked at between fetches
};

enum class ChunkedEnd {
  kEnd,       // the ranges were read (the builder may hold a partial batch)
  kTakeDone,  // the builder's `take` was reached
  kStopped,   // emit returned false, or stopping() was true
};

// Reads an epoch of `reader` (started) in chunks of `chunk_records`, one
// range per chunk, decodes them on `chunks`, and assembles them in order
// into `builder`. Errors of the reader (DataLossError, KafkaException) are
// rethrown once the records read before them were assembled.
ChunkedEnd read_in_chunks(RangeReader& reader, BatchBuilder& builder, ChunkDecoder& chunks, size_t chunk_records,
                          const ChunkedReadHooks& hooks);

class ChunkDecoder {
 public:
  // `rows` must outlive the decoder. `threads` >= 1 workers.
  ChunkDecoder(const RowDecoder& rows, size_t segment_rows, size_t threads);
  ~ChunkDecoder();
  ChunkDecoder(const ChunkDecoder&) = delete;
  ChunkDecoder& operator=(const ChunkDecoder&) = delete;

  // Queues a chunk for decoding.
  void submit(RecordChunk chunk);
  // The oldest submitted chunk, once decoded; nullopt when none was
  // submitted, or when it is not decoded yet and `wait` is false.
  std::optional<DecodedChunk> next(bool wait);
  // Workers by default: one per CPU beyond two (the reading thread and
  // librdkafka's broker thread take one each; on 2 CPUs a worker only adds
  // hand-over costs), at most four (beyond, the reading thread is the limit).
  // 0 means: decode on the reading thread.
  static size_t default_threads();
  size_t threads() const;
  // Chunks submitted and not yet returned by next().
  size_t in_flight() const;
  // Drops every chunk submitted and not returned, waiting for those being
  // decoded.
  void discard();

 private:
  struct Slot {
    RecordChunk input;
    DecodedChunk output;
    bool started = false;
    bool done = false;
  };

  void work();
  DecodedChunk decode(RecordChunk& chunk) const;

  const RowDecoder& rows_;
  const size_t segment_rows_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // a slot to decode, or stop_
  std::condition_variable done_cv_;  // a slot was decoded
  std::deque<std::unique_ptr<Slot>> slots_;  // submission order; guarded by mu_
  std::deque<Slot*> todo_;                   // not started; guarded by mu_
  size_t running_ = 0;                       // slots being decoded; guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace streamml::data
