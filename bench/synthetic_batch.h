// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// A learnable binary-classification batch for the training benchmarks:
// `features` standard-normal features per row, labelled by the sign of a
// fixed linear score. The same `seed` gives the same batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

#include "streamml/data/batch.h"

namespace streamml::bench {

inline data::Batch synthetic_binary_batch(size_t rows, size_t features, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  data::Batch b;
  b.size = rows;
  b.num_features = features;
  b.num_labels = 1;
  for (size_t r = 0; r < rows; ++r) {
    float score = 0;
    for (size_t f = 0; f < features; ++f) {
      const float x = normal(rng);
      b.features.push_back(x);
      score += (f % 2 ? 1.0f : -0.5f) * x;
    }
    b.labels.push_back(score > 0 ? 1.0f : 0.0f);
    b.meta.emplace_back();
  }
  return b;
}

}  // namespace streamml::bench
