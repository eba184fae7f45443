// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Predictions: a model's output for one batch as plain vectors (no LibTorch
// types), and the renderings of one row that `serve` writes to Kafka or files.
//
// JSON (one object per row):
//   binary      {"prediction":1,"probability":0.973}
//   multiclass  {"prediction":2,"probabilities":[0.01,0.02,0.97]}
//   regression  {"prediction":3.25}
// With include_source the object starts with "topic", "partition", "offset"
// and "key" (null when the record had no key).
// CSV (no header; csv_header() gives it):
//   binary      prediction,probability
//   multiclass  prediction,p0,...,p{K-1}
//   regression  prediction
// With include_source the columns topic,partition,offset,key come first.
// Numbers use the shortest text that reads back to the same float.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "streamml/data/batch.h"
#include "streamml/model/task.h"

namespace streamml::model {

// A value type; thread-compatible.
struct Predictions {
  Task task;
  size_t size = 0;  // rows
  // binary: P(class 1) per row; regression: the value per row;
  // multiclass: class probabilities, row-major [size, num_classes].
  std::vector<float> values;
  // Predicted class per row (binary: probability >= 0.5; multiclass: argmax).
  // Empty for regression.
  std::vector<int64_t> classes;

  // Width of a row in `values` (num_classes for multiclass, else 1).
  size_t width() const { return static_cast<size_t>(task.output_size()); }
  // binary: P(class 1); multiclass: probability of the predicted class;
  // regression: the value.
  float score(size_t row) const;
  // The predicted class (classification) or value (regression) as a double.
  double prediction(size_t row) const;
};

struct PredictionFormat {
  bool include_source = false;        // prefix topic, partition, offset, key of the record
  bool include_probabilities = true;  // classification: write probabilities, not only the class
};

// Renders row `row` of `predictions`. `meta` is only read with include_source
// (nullptr then writes empty/null source fields). Throws std::out_of_range
// when row >= predictions.size.
std::string format_json(const Predictions& predictions, size_t row,
                        const data::RecordMeta* meta = nullptr,
                        const PredictionFormat& format = {});
std::string format_csv(const Predictions& predictions, size_t row,
                       const data::RecordMeta* meta = nullptr,
                       const PredictionFormat& format = {});
std::string csv_header(const Task& task, const PredictionFormat& format = {});

}  // namespace streamml::model
