// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Learnable synthetic data sets for model and train tests, generated with a
// fixed seed. Features have very different scales and offsets, so a model
// only learns quickly when standardisation works.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "streamml/data/batch.h"

namespace streamml::testing {

struct Dataset {
  size_t num_features = 0;
  std::vector<float> features;  // row-major
  std::vector<float> labels;    // one per row
  size_t rows() const { return labels.size(); }
};

enum class SyntheticTask { kBinary, kMulticlass3, kRegression };

// Raw feature f = z_f * scale_f + offset_f with z ~ N(0, 1).
inline Dataset make_dataset(SyntheticTask task, size_t rows, uint64_t seed,
                            size_t num_features = 6) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Dataset d;
  d.num_features = num_features;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<double> z(num_features);
    for (size_t f = 0; f < num_features; ++f) {
      z[f] = normal(rng);
      const double scale = std::pow(10.0, static_cast<double>(f % 3));
      d.features.push_back(static_cast<float>(z[f] * scale + 5.0 * static_cast<double>(f)));
    }
    switch (task) {
      case SyntheticTask::kBinary:
        d.labels.push_back(1.5 * z[0] - 2.0 * z[1] + z[2] + 0.3 > 0 ? 1.0f : 0.0f);
        break;
      case SyntheticTask::kMulticlass3: {
        const double s0 = 2 * z[0] + z[1], s1 = -z[0] + 2 * z[2], s2 = -z[1] - z[2] + 0.2;
        d.labels.push_back(s0 >= s1 && s0 >= s2 ? 0.0f : (s1 >= s2 ? 1.0f : 2.0f));
        break;
      }
      case SyntheticTask::kRegression:
        d.labels.push_back(
            static_cast<float>(3.0 * z[0] - 2.0 * z[1] + z[2] * z[3] + 0.1 * normal(rng) + 10.0));
        break;
    }
  }
  return d;
}

inline data::RecordMeta record_at(std::string topic, int32_t partition, int64_t offset) {
  data::RecordMeta m;
  m.topic = std::move(topic);
  m.partition = partition;
  m.offset = offset;
  return m;
}

inline data::Batch to_batch(const Dataset& d, const std::string& topic = "synthetic") {
  data::Batch b;
  b.size = d.rows();
  b.num_features = d.num_features;
  b.num_labels = 1;
  b.features = d.features;
  b.labels = d.labels;
  for (size_t r = 0; r < b.size; ++r) {
    data::RecordMeta m;
    m.topic = topic;
    m.partition = 0;
    m.offset = static_cast<int64_t>(r);
    b.meta.push_back(m);
  }
  return b;
}

inline double label_std(const Dataset& d) {
  double mean = 0;
  for (float y : d.labels) mean += y;
  mean /= static_cast<double>(d.rows());
  double var = 0;
  for (float y : d.labels) var += (y - mean) * (y - mean);
  return std::sqrt(var / static_cast<double>(d.rows()));
}

}  // namespace streamml::testing
