// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// InMemorySource: a bounded BatchSource over rows held in memory (tests,
// examples, data that fits in memory). Every epoch replays exactly the same
// rows; with shuffle on, the order of epoch e is a permutation drawn from
// `seed + e` with a portable generator (std::mt19937_64 and a hand-written
// Fisher-Yates), so the same seed gives the same batches on every platform
// and standard library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "streamml/data/batch.h"

namespace streamml::data {

struct InMemorySourceOptions {
  size_t batch_size = 32;                   // rows per batch (>= 1); the last batch may be smaller
  bool shuffle = false;                     // draw a new row order each epoch
  uint64_t seed = 0;                        // shuffle seed; epoch e uses seed + e
  bool drop_last = false;                   // drop a final batch smaller than batch_size
  std::vector<std::string> feature_names{}; // empty: "f0", "f1", ...
  std::string decoder_spec{};               // reported by decoder_spec(); "" when none
};

// Not thread-safe (one consumer, like every BatchSource).
class InMemorySource final : public BatchSource {
 public:
  // `features` is row-major [rows, num_features]; `labels` is row-major
  // [rows, num_labels] (empty when num_labels == 0); `meta` is empty or one
  // per row (empty: each row gets topic "memory", partition -1 and its row
  // index as offset, so errors read "memory:<row>").
  // Throws ConfigError when batch_size is 0, num_features is 0, a vector's
  // size does not match the row count, or feature_names has the wrong size.
  InMemorySource(std::vector<float> features, size_t num_features, std::vector<float> labels,
                 size_t num_labels, InMemorySourceOptions options = {},
                 std::vector<RecordMeta> meta = {});

  // All rows of `batch` (with its metadata) as a source.
  static InMemorySource from_batch(const Batch& batch, InMemorySourceOptions options = {});

  std::optional<Batch> next() override;
  // Starts the next epoch (reshuffling when shuffle is on).
  void reset() override;

  size_t num_features() const override { return num_features_; }
  size_t num_labels() const override { return num_labels_; }
  std::vector<std::string> feature_names() const override { return feature_names_; }
  std::string decoder_spec() const override { return options_.decoder_spec; }

  size_t num_rows() const { return num_rows_; }
  // Epochs started so far minus one (0 for the first epoch).
  uint64_t epoch() const { return epoch_; }
  // Rewinds to the start of epoch `epoch` (same order as when it first ran).
  void seek_epoch(uint64_t epoch);
  // Batches per epoch, accounting for drop_last.
  size_t batches_per_epoch() const;

 private:
  void build_order();

  std::vector<float> features_;
  std::vector<float> labels_;
  std::vector<RecordMeta> meta_;
  size_t num_features_;
  size_t num_labels_;
  size_t num_rows_;
  InMemorySourceOptions options_;
  std::vector<std::string> feature_names_;
  std::vector<size_t> order_;  // row order of the current epoch
  size_t position_ = 0;        // next index into order_
  uint64_t epoch_ = 0;
};

}  // namespace streamml::data
