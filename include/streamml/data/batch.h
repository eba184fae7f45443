// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Batch: decoded records as contiguous float rows, ready to become tensors
// (the model layer wraps them without copying). BatchSource: the pull
// interface every data source implements (Kafka ranges, consumer groups,
// online mini-batches, files, memory) and that training, evaluation,
// prediction and serving consume. No LibTorch types here on purpose: the data
// layer stays out of LibTorch's compile cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "streamml/data/record_meta.h"

namespace streamml::data {

struct Batch {
  size_t size = 0;          // rows
  size_t num_features = 0;  // columns of `features`
  size_t num_labels = 0;    // columns of `labels` (0 when unlabeled)
  std::vector<float> features;   // row-major [size, num_features]
  std::vector<float> labels;     // row-major [size, num_labels]
  std::vector<RecordMeta> meta;  // one per row
  // Raw record payloads, one per row, when the source was asked to keep
  // them (binary-safe); otherwise empty.
  std::vector<std::string> payloads;

  bool empty() const { return size == 0; }
  const float* row(size_t i) const { return features.data() + i * num_features; }
  // Appends the rows of `other` (same widths).
  void append(const Batch& other);
};

// A pull source of batches. Not thread-safe: one consumer thread.
class BatchSource {
 public:
  virtual ~BatchSource() = default;

  // The next batch, or nullopt at the end of the epoch (bounded sources) or
  // when the stream stopped (stream timeout, shutdown). Never an empty batch.
  virtual std::optional<Batch> next() = 0;

  // Starts the next epoch. Bounded sources replay exactly the same records;
  // unbounded sources throw ConfigError (they have no epochs).
  virtual void reset() = 0;

  // The caller has finished with every batch returned so far (trained on it,
  // or its predictions were written): sources that track offsets commit them.
  virtual void commit() {}

  virtual size_t num_features() const = 0;
  virtual size_t num_labels() const = 0;
  virtual std::vector<std::string> feature_names() const = 0;

  // Canonical decoder spec of the records (stored in model files), or "".
  virtual std::string decoder_spec() const { return {}; }

  // Iterator state after the last returned batch, as text, for checkpoints
  // ("" when the source cannot resume). restore() continues from such a
  // state with the next unconsumed record; ConfigError when unsupported.
  virtual std::string state() const { return {}; }
  virtual void restore(const std::string& state);
};

}  // namespace streamml::data
