// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// PrequentialEvaluator: "test-then-train" evaluation of an online model
// (Dawid 1984; Gama, Sebastiao & Rodrigues 2013). Every record is scored by
// the model before the update that learns from it; the evaluator keeps each
// metric two ways:
//   * over a sliding window of the last `window` records ("preq_<metric>");
//   * with a fading factor a ("preq_faded_<metric>"): S_t = x_t + a S_{t-1},
//     N_t = 1 + a N_{t-1}, metric = S_t / N_t (a = 1: since the start).
// Metrics by task:
//   binary      accuracy, loss (log loss), auc
//   multiclass  accuracy, loss (log loss)
//   regression  mae, rmse, loss (squared error)
// plus "preq_records", the records evaluated. Log loss clamps the probability
// of the true class to at least kMinProbability. The windowed AUC is exact
// (ties count one half); the faded AUC uses kFadedAucBins equal bins of the
// predicted probability. AUC is absent while one class is missing.
//
// Each record also yields its error for a drift detector (drift.h): 1 for a
// misclassified record, 0 otherwise; a regression's absolute error.
//
// The whole state (window, faded sums, counters) saves as text and
// restores, for checkpoints: exactly, except the faded AUC's weights, which
// are kept to float precision. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/model/predictions.h"
#include "streamml/model/task.h"
#include "streamml/train/metrics.h"

namespace streamml::train {

struct PrequentialOptions {
  int64_t window = 1000;  // records in the sliding window (>= 1)
  double fading = 0.999;  // fading factor, in (0, 1]

  // Throws ConfigError naming the first invalid field.
  void validate() const;
};

class PrequentialEvaluator {
 public:
  static constexpr double kMinProbability = 1e-7;
  static constexpr size_t kFadedAucBins = 1000;

  // Throws ConfigError for invalid options.
  PrequentialEvaluator(model::Task task, PrequentialOptions options = {});

  // Adds the predictions of a batch made before the model learned it, and
  // their labels (one per row). Appends each record's error to `errors`
  // when it is not null.
  void add(const model::Predictions& predictions, const float* labels, std::vector<double>* errors = nullptr);

  // Records evaluated since construction (or restore()).
  int64_t count() const { return count_; }
  // The metrics (empty before the first record). The windowed AUC costs
  // O(window log window): with_auc = false leaves both AUCs out.
  Metrics metrics(bool with_auc = true) const;
  // Empties the window and the faded sums; count() is kept.
  void clear();

  // The full state as one line of text, and back. restore() throws
  // InputError when `state` is not an evaluator state for the same task.
  std::string state() const;
  void restore(std::string_view state);

  const PrequentialOptions& options() const { return options_; }

 private:
  struct Entry {
    double error = 0.0;  // 0/1, or |prediction - label|
    double loss = 0.0;   // log loss, or squared error
    float score = 0.0f;  // binary: P(class 1); multiclass: P(true class)
    bool positive = false;
  };
  void push(const Entry& e);
  static Entry binary_entry(float score, bool positive);
  static Entry multiclass_entry(float true_class_probability, bool correct);
  static Entry regression_entry(double abs_error);

  model::Task task_;
  PrequentialOptions options_;
  int64_t count_ = 0;
  // The window: a ring of the last options_.window entries.
  std::vector<Entry> ring_;
  size_t next_ = 0;
  double window_error_ = 0.0;
  double window_loss_ = 0.0;
  double window_squared_ = 0.0;
  // Faded sums.
  double faded_n_ = 0.0;
  double faded_error_ = 0.0;
  double faded_loss_ = 0.0;
  double faded_squared_ = 0.0;
  // Faded AUC: weights per probability bin, scaled by scale_ (the weight of
  // the newest record grows as 1 / fading^t and is rescaled before it overflows).
  std::vector<double> faded_pos_;
  std::vector<double> faded_neg_;
  double scale_ = 1.0;
};

}  // namespace streamml::train
