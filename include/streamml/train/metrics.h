// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Metrics of a training epoch, an evaluation or a single step, and the
// accumulator that computes them from predictions and labels. Names:
//   loss       mean loss per record (BCEWithLogits, CrossEntropy or MSE)
//   accuracy   classification: fraction of records whose predicted class is the label
//   auc        binary: area under the ROC curve (absent when one class is missing)
//   mae, rmse  regression: mean absolute error, root mean squared error
//   records    records seen
//   precision, recall, f1   classification, from classification_metrics()
//              only (evaluate): binary for the positive class 1, multiclass
//              the macro average over the classes that occur (as labels or
//              predictions); a class never predicted has precision 0
// Validation metrics carry a "val_" prefix in training logs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "streamml/model/predictions.h"
#include "streamml/model/task.h"

namespace streamml::train {

// Metric name -> value, ordered by name (stable JSON and logs).
using Metrics = std::map<std::string, double>;

// The metric that summarises a task besides the loss: "accuracy" for
// classification, "rmse" for regression.
std::string main_metric(const model::Task& task);
// True when a larger value of `metric` is better (accuracy, auc; with or
// without the "val_" prefix).
bool higher_is_better(const std::string& metric);

// Rows: true class, columns: predicted class (K x K; 2 x 2 for binary).
using ConfusionMatrix = std::vector<std::vector<uint64_t>>;

// Streaming metrics with fixed memory. AUC uses a histogram of the predicted
// probability with kAucBins equal bins: a positive and a negative in the
// same bin count one half, so the result differs from the exact AUC only
// through pairs whose probabilities are within 1/kAucBins of each other.
// Not thread-safe.
class MetricAccumulator {
 public:
  static constexpr size_t kAucBins = 10000;

  explicit MetricAccumulator(model::Task task);

  // Adds one batch: its predictions, its labels (one per row) and the sum of
  // the per-record losses.
  void add(const model::Predictions& predictions, const float* labels, double loss_sum);

  uint64_t count() const { return count_; }
  // Metrics so far (empty before the first record). AUC is the only metric
  // that costs O(kAucBins); pass with_auc = false on per-batch updates.
  Metrics metrics(bool with_auc = true) const;
  // Classification: precision, recall and f1 (see above); empty otherwise.
  Metrics classification_metrics() const;
  // Classification: the confusion matrix so far; empty otherwise.
  ConfusionMatrix confusion() const;
  void clear();

  // Every sum as one vector (count, loss, correct, errors, the AUC bins):
  // vectors of accumulators of several processes add up element-wise, and
  // merge_sums() adds such a vector into this one (distributed.h).
  std::vector<double> sums() const;
  // Throws Error when `sums` is not of an accumulator of the same task.
  void merge_sums(const std::vector<double>& sums);

 private:
  model::Task task_;
  uint64_t count_ = 0;
  double loss_sum_ = 0.0;
  uint64_t correct_ = 0;
  double abs_error_sum_ = 0.0;
  double squared_error_sum_ = 0.0;
  std::vector<uint64_t> positives_;  // per probability bin (binary only)
  std::vector<uint64_t> negatives_;
  std::vector<uint64_t> confusion_;  // classification: [true * K + predicted]
};

}  // namespace streamml::train
