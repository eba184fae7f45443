// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Small model files for serve tests: a built-in MLP over 4 CSV features
// (trained with a label column y, served without it), saved to a path.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "streamml/data/batch.h"
#include "streamml/model/model.h"

namespace streamml::testing {

inline constexpr const char* kServeDecoderSpec = "csv:names=a+b+c+d+y,label=y";

inline model::Model make_serve_model(uint64_t seed, model::Task task = model::Task::multiclass(3)) {
  model::ModelConfig c;
  c.task = task;
  c.features.num_features = 4;
  c.features.feature_names = {"a", "b", "c", "d"};
  c.features.decoder_spec = kServeDecoderSpec;
  c.spec = model::parse_model_spec("mlp:16");
  c.seed = seed;
  return model::Model::create(c);
}

// The CSV payload of row i (no label column).
inline std::string serve_row(int i) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%.3f,%.3f,%.3f,%.3f", 0.1 * (i % 17) - 0.5, 0.03 * (i % 29),
                -0.2 * (i % 7), 1.0 + 0.01 * (i % 101));
  return buf;
}

// The features of serve_row(i), as a one-row batch.
inline data::Batch serve_batch(const std::vector<int>& rows) {
  data::Batch b;
  b.num_features = 4;
  for (int i : rows) {
    float f[4];
    std::sscanf(serve_row(i).c_str(), "%f,%f,%f,%f", &f[0], &f[1], &f[2], &f[3]);
    b.features.insert(b.features.end(), f, f + 4);
    data::RecordMeta m;
    m.topic = "t";
    m.partition = 0;
    m.offset = i;
    b.meta.push_back(m);
    ++b.size;
  }
  return b;
}

}  // namespace streamml::testing
