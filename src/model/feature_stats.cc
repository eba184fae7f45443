// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/feature_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "streamml/common/error.h"

namespace streamml::model {

FeatureStatsAccumulator::FeatureStatsAccumulator(size_t num_features)
    : num_features_(num_features), mean_(num_features, 0.0), m2_(num_features, 0.0) {}

void FeatureStatsAccumulator::add(const data::Batch& batch) {
  if (batch.num_features != num_features_) {
    throw InputError(fmt::format("expected {} features, found {} at record {}", num_features_,
                                 batch.num_features,
                                 batch.meta.empty() ? std::string("?") : batch.meta[0].location()));
  }
  for (size_t r = 0; r < batch.size; ++r) {
    const float* row = batch.row(r);
    for (size_t f = 0; f < num_features_; ++f) {
      if (!std::isfinite(row[f])) {
        throw InputError(fmt::format("feature {} is {} at record {}", f, row[f],
                                     r < batch.meta.size() ? batch.meta[r].location() : "?"));
      }
    }
    ++count_;
    const double n = static_cast<double>(count_);
    for (size_t f = 0; f < num_features_; ++f) {
      const double x = row[f];
      const double delta = x - mean_[f];
      mean_[f] += delta / n;
      m2_[f] += delta * (x - mean_[f]);
    }
  }
}

std::vector<double> FeatureStatsAccumulator::sums() const {
  std::vector<double> out(1 + 2 * num_features_, 0.0);
  const double n = static_cast<double>(count_);
  out[0] = n;
  for (size_t f = 0; f < num_features_; ++f) {
    out[1 + f] = n * mean_[f];
    out[1 + num_features_ + f] = m2_[f] + n * mean_[f] * mean_[f];
  }
  return out;
}

FeatureStatsAccumulator FeatureStatsAccumulator::from_sums(size_t num_features, const std::vector<double>& sums) {
  if (sums.size() != 1 + 2 * num_features) {
    throw Error(fmt::format("feature statistics sums hold {} values; {} features need {}", sums.size(), num_features,
                            1 + 2 * num_features));
  }
  FeatureStatsAccumulator acc(num_features);
  acc.count_ = static_cast<uint64_t>(std::llround(sums[0]));
  if (acc.count_ == 0) return acc;
  const double n = static_cast<double>(acc.count_);
  for (size_t f = 0; f < num_features; ++f) {
    acc.mean_[f] = sums[1 + f] / n;
    acc.m2_[f] = std::max(0.0, sums[1 + num_features + f] - n * acc.mean_[f] * acc.mean_[f]);
  }
  return acc;
}

FeatureStats FeatureStatsAccumulator::finish() const {
  FeatureStats stats;
  stats.mean.resize(num_features_, 0.0f);
  stats.std.resize(num_features_, 1.0f);
  if (count_ == 0) return stats;
  for (size_t f = 0; f < num_features_; ++f) {
    stats.mean[f] = static_cast<float>(mean_[f]);
    const double sd = std::sqrt(m2_[f] / static_cast<double>(count_));
    stats.std[f] = sd < 1e-12 ? 1.0f : static_cast<float>(sd);
  }
  return stats;
}

}  // namespace streamml::model
