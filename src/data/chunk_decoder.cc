// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/chunk_decoder.h"

#include <algorithm>
#include <utility>

#include "streamml/data/record_meta.h"

namespace streamml::data {
namespace {

constexpr size_t kMinChunkRecords = 256;
constexpr size_t kMaxChunkRecords = 8192;
constexpr size_t kMaxDefaultThreads = 4;

}  // namespace

size_t chunk_records_for(size_t batch_size) {
  batch_size = std::max<size_t>(batch_size, 1);
  return std::clamp(batch_size * ((kMinChunkRecords + batch_size - 1) / batch_size), std::min(batch_size, kMaxChunkRecords),
                    kMaxChunkRecords);
}

ChunkDecoder::ChunkDecoder(const RowDecoder& rows, size_t segment_rows, size_t threads)
    : rows_(rows), segment_rows_(std::max<size_t>(segment_rows, 1)) {
  workers_.reserve(threads);
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) workers_.emplace_back([this] { work(); });
}

ChunkDecoder::~ChunkDecoder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ChunkDecoder::submit(RecordChunk chunk) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto slot = std::make_unique<Slot>();
    slot->input = std::move(chunk);
    todo_.push_back(slot.get());
    slots_.push_back(std::move(slot));
  }
  work_cv_.notify_one();
}

std::optional<DecodedChunk> ChunkDecoder::next(bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (slots_.empty()) return std::nullopt;
  if (wait) {
    done_cv_.wait(lock, [&] { return slots_.front()->done; });
  } else if (!slots_.front()->done) {
    return std::nullopt;
  }
  std::optional<DecodedChunk> out(std::move(slots_.front()->output));
  slots_.pop_front();
  return out;
}

size_t ChunkDecoder::default_threads() {
  const size_t cpus = std::max(2u, std::thread::hardware_concurrency());
  return std::min<size_t>(cpus - 2, kMaxDefaultThreads);
}

size_t ChunkDecoder::threads() const { return workers_.size(); }

size_t ChunkDecoder::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

void ChunkDecoder::discard() {
  std::unique_lock<std::mutex> lock(mu_);
  todo_.clear();
  done_cv_.wait(lock, [&] { return running_ == 0; });
  slots_.clear();
}

void ChunkDecoder::work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || !todo_.empty(); });
    if (stop_) return;
    Slot* slot = todo_.front();
    todo_.pop_front();
    slot->started = true;
    ++running_;
    lock.unlock();
    DecodedChunk output;
    try {
      output = decode(slot->input);
    } catch (...) {
      output.error = std::current_exception();
    }
    slot->input.records.clear();  // frees librdkafka's buffers here, not on the owner's thread
    lock.lock();
    slot->output = std::move(output);
    slot->done = true;
    --running_;
    done_cv_.notify_all();
  }
}

DecodedChunk ChunkDecoder::decode(RecordChunk& chunk) const {
  DecodedChunk out;
  out.pass = chunk.pass;
  out.range = chunk.range;
  out.records = chunk.records.size();
  const std::string topic = chunk.records.empty() ? std::string() : chunk.records.front().topic();
  size_t rows = 0;
  for (const kafka::Message& m : chunk.records) {
    if (out.segments.empty() || out.segments.back().size >= segment_rows_) {
      out.segments.push_back(rows_.empty_batch(std::min(segment_rows_, chunk.records.size() - rows)));
    }
    RecordMeta meta = m.topic_view() == topic ? meta_of(m, topic) : meta_of(m);
    if (std::optional<RowDecoder::Rejection> rejection = rows_.append(m.value(), meta, out.segments.back())) {
      out.rejected.push_back({rows, std::move(meta), std::string(m.value()), std::move(*rejection)});
    } else {
      ++rows;
    }
  }
  if (!out.segments.empty() && out.segments.back().size == 0) out.segments.pop_back();
  return out;
}

Assembled assemble(DecodedChunk& chunk, BatchBuilder& builder, const std::function<void(const RecordMeta&)>& note,
                   const std::function<bool(Batch)>& emit) {
  if (chunk.error) std::rethrow_exception(chunk.error);
  size_t next_rejected = 0;
  size_t row = 0;  // good rows of the chunk passed so far
  // Applies the policy to the rejected records that come before good row `before`.
  auto reject_up_to = [&](size_t before) {
    for (; next_rejected < chunk.rejected.size() && chunk.rejected[next_rejected].rows_before <= before;
         ++next_rejected) {
      DecodedChunk::Rejected& r = chunk.rejected[next_rejected];
      note(r.meta);
      builder.reject(r.meta, r.payload, r.rejection);
    }
  };
  for (Batch& segment : chunk.segments) {
    reject_up_to(row);
    const bool clean = next_rejected == chunk.rejected.size() ||
                       chunk.rejected[next_rejected].rows_before >= row + segment.size;
    if (clean && builder.takes_whole(segment)) {
      for (const RecordMeta& meta : segment.meta) note(meta);
      row += segment.size;
      if (!emit(builder.take_whole(std::move(segment)))) return Assembled::kStopped;
      if (builder.take_done()) return Assembled::kTakeDone;
      continue;
    }
    for (size_t i = 0; i < segment.size; ++i, ++row) {
      if (i > 0) reject_up_to(row);
      note(segment.meta[i]);
      std::optional<Batch> full = builder.add_decoded(segment, i);
      if (full && !emit(std::move(*full))) return Assembled::kStopped;
      if (builder.take_done()) return Assembled::kTakeDone;
    }
  }
  reject_up_to(row);
  return Assembled::kDone;
}

ChunkedEnd read_in_chunks(RangeReader& reader, BatchBuilder& builder, ChunkDecoder& chunks, size_t chunk_records,
                          const ChunkedReadHooks& hooks) {
  struct Discard {
    ChunkDecoder& chunks;
    ~Discard() { chunks.discard(); }
  } discard{chunks};
  // Enough chunks in flight to keep the workers busy while one is assembled.
  const size_t max_in_flight = 2 * chunks.threads() + 2;
  size_t in_flight = 0;
  RecordChunk chunk;
  chunk.records.reserve(chunk_records);
  auto submit = [&] {
    if (chunk.records.empty()) return;
    chunks.submit(std::move(chunk));
    chunk = RecordChunk{};
    chunk.records.reserve(chunk_records);
    ++in_flight;
  };
  // Assembles the decoded chunks: all of them when `all`, else those decoded
  // (waiting while too many are in flight).
  auto assemble_chunks = [&](bool all) {
    while (std::optional<DecodedChunk> c = chunks.next(all || in_flight > max_in_flight)) {
      --in_flight;
      const int pass = c->pass;
      const size_t range = c->range;
      auto note = [&](const RecordMeta& meta) { hooks.note(meta, BoundedPosition{pass, range, meta.offset + 1}); };
      switch (assemble(*c, builder, note, hooks.emit)) {
        case Assembled::kDone:
          continue;
        case Assembled::kStopped:
          return ChunkedEnd::kStopped;
        case Assembled::kTakeDone:
          return ChunkedEnd::kTakeDone;
      }
    }
    return ChunkedEnd::kEnd;
  };
  kafka::Message m;
  while (true) {
    RecordReader::Status status;
    try {
      status = reader.next(m, RecordReader::Limits{});
    } catch (...) {
      submit();  // the records read before the failure are still returned
      const ChunkedEnd end = assemble_chunks(/*all=*/true);
      if (end == ChunkedEnd::kEnd) throw;
      return end;
    }
    if (status == RecordReader::Status::kRecord) {
      const BoundedPosition& p = reader.position();
      if (!chunk.records.empty() && (p.pass != chunk.pass || p.range != chunk.range)) submit();
      if (chunk.records.empty()) {
        chunk.pass = p.pass;
        chunk.range = p.range;
      }
      chunk.records.push_back(std::move(m));
      if (chunk.records.size() < chunk_records) continue;
      submit();
      if (const ChunkedEnd end = assemble_chunks(/*all=*/false); end != ChunkedEnd::kEnd) return end;
      continue;
    }
    // Idle (waiting for a fetch) or the end: what was read is assembled now.
    submit();
    if (const ChunkedEnd end = assemble_chunks(/*all=*/true); end != ChunkedEnd::kEnd) return end;
    if (status == RecordReader::Status::kEnd) return ChunkedEnd::kEnd;
    if (hooks.stopping()) return ChunkedEnd::kStopped;
  }
}

}  // namespace streamml::data
