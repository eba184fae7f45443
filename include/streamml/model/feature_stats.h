// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// FeatureStats: per-feature mean and standard deviation used to standardise
// inputs ((x - mean) / std) inside a model. FeatureStatsAccumulator computes
// them in one streaming pass (Welford's algorithm, numerically stable, in
// double precision) over training batches.
#pragma once

#include <cstdint>
#include <vector>

#include "streamml/data/batch.h"

namespace streamml::model {

// A value type; thread-compatible.
struct FeatureStats {
  std::vector<float> mean;  // one per feature
  std::vector<float> std;   // one per feature; constant features get 1 (never 0)

  bool empty() const { return mean.empty(); }
  size_t size() const { return mean.size(); }
  friend bool operator==(const FeatureStats&, const FeatureStats&) = default;
};

// Not thread-safe.
class FeatureStatsAccumulator {
 public:
  explicit FeatureStatsAccumulator(size_t num_features);

  // Adds every row of `batch`. Throws InputError naming the first record when
  // the batch width differs from num_features, or a feature is not finite.
  void add(const data::Batch& batch);

  uint64_t count() const { return count_; }
  // The statistics so far (population std; std below 1e-12, or no rows at
  // all, is reported as 1 so standardising never divides by zero).
  FeatureStats finish() const;

  // The rows so far as sums (count, then per feature the sum, then the sum
  // of squares): vectors of accumulators of several processes add up
  // element-wise, and from_sums() turns their total back into an
  // accumulator (distributed training).
  std::vector<double> sums() const;
  // Throws Error when `sums` does not hold 1 + 2 * num_features values.
  static FeatureStatsAccumulator from_sums(size_t num_features, const std::vector<double>& sums);

 private:
  size_t num_features_;
  uint64_t count_ = 0;
  std::vector<double> mean_;
  std::vector<double> m2_;
};

}  // namespace streamml::model
