// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/shuffle_source.h"

#include <algorithm>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

// Moves the last row of `batch` over row `row` and drops the last row.
void remove_row(Batch& batch, size_t row) {
  const size_t last = batch.size - 1;
  if (row != last) {
    std::copy_n(batch.features.begin() + static_cast<std::ptrdiff_t>(last * batch.num_features), batch.num_features,
                batch.features.begin() + static_cast<std::ptrdiff_t>(row * batch.num_features));
    std::copy_n(batch.labels.begin() + static_cast<std::ptrdiff_t>(last * batch.num_labels), batch.num_labels,
                batch.labels.begin() + static_cast<std::ptrdiff_t>(row * batch.num_labels));
    if (last < batch.meta.size()) batch.meta[row] = std::move(batch.meta[last]);
    if (last < batch.payloads.size()) batch.payloads[row] = std::move(batch.payloads[last]);
  }
  batch.features.resize(last * batch.num_features);
  batch.labels.resize(last * batch.num_labels);
  if (last < batch.meta.size()) batch.meta.pop_back();
  if (last < batch.payloads.size()) batch.payloads.pop_back();
  batch.size = last;
}

}  // namespace

ShuffleSource::ShuffleSource(BatchSource& source, size_t buffer, uint64_t seed, size_t batch_size)
    : source_(source), buffer_(buffer), seed_(seed), batch_size_(batch_size), random_(seed) {
  if (buffer_ == 0) throw ConfigError("shuffle buffer 0 is invalid: give at least 1 row (1: no shuffling)");
}

void ShuffleSource::fill() {
  while (!source_done_ && pool_.size < buffer_) {
    std::optional<Batch> batch = source_.next();
    if (!batch) {
      source_done_ = true;
      break;
    }
    if (batch_size_ == 0) batch_size_ = batch->size;
    pool_.append(*batch);
  }
}

std::optional<Batch> ShuffleSource::next() {
  Batch out;
  fill();
  while (out.size < std::max<size_t>(batch_size_, 1)) {
    if (pool_.size < buffer_) fill();
    if (pool_.size == 0) break;
    std::uniform_int_distribution<size_t> pick(0, pool_.size - 1);
    const size_t row = pick(random_);
    out.append_row(pool_, row);
    remove_row(pool_, row);
  }
  if (out.size == 0) return std::nullopt;
  return out;
}

void ShuffleSource::reset() {
  source_.reset();
  pool_ = Batch{};
  source_done_ = false;
  random_.seed(seed_ + ++epoch_);
}

}  // namespace streamml::data
