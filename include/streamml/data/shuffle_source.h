// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ShuffleSource: shuffles the rows of any bounded source through a buffer,
// as tf.data's shuffle(buffer_size): the buffer is filled with the first
// `buffer` rows, each output row is drawn at random from it and replaced by
// the next input row. A buffer at least as large as the epoch is a full
// shuffle. Epoch e (counted by reset()) draws from seed + e, so a run is
// repeatable and each epoch has its own order.
//
// Memory: `buffer` rows plus one input batch. Not thread-safe (one consumer
// thread). Holds a reference to `source`, which must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <random>

#include "streamml/data/batch.h"

namespace streamml::data {

class ShuffleSource final : public BatchSource {
 public:
  // `batch_size` 0: the size of the source's first batch. Throws
  // ConfigError when buffer is 0.
  ShuffleSource(BatchSource& source, size_t buffer, uint64_t seed, size_t batch_size = 0);

  std::optional<Batch> next() override;
  void reset() override;
  void commit() override { source_.commit(); }

  size_t num_features() const override { return source_.num_features(); }
  size_t num_labels() const override { return source_.num_labels(); }
  std::vector<std::string> feature_names() const override { return source_.feature_names(); }
  std::string decoder_spec() const override { return source_.decoder_spec(); }
  std::optional<int64_t> size_hint() const override { return source_.size_hint(); }

 private:
  // Pulls source batches into the pool until it holds `buffer` rows or the
  // source ends.
  void fill();

  BatchSource& source_;
  const size_t buffer_;
  const uint64_t seed_;
  size_t batch_size_;
  uint64_t epoch_ = 0;
  std::mt19937_64 random_;
  Batch pool_;
  bool source_done_ = false;
};

}  // namespace streamml::data
