// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// EarlyStopping: stops fit() when a monitored epoch metric has not improved
// for `patience` epochs. fit() adds one itself when TrainOptions::patience > 0.
// Not thread-safe (driven by the trainer thread).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "streamml/train/callback.h"

namespace streamml::train {

struct EarlyStoppingOptions {
  std::string monitor{};     // epoch metric; "": val_loss with validation, else loss
  int patience = 3;          // epochs without improvement before stopping (>= 1)
  double min_delta = 0.0;    // smallest change that counts as an improvement (>= 0)
  bool restore_best = false;  // at the end, put back the weights of the best epoch
};

class EarlyStopping final : public Callback {
 public:
  // Throws ConfigError when patience < 1 or min_delta < 0.
  explicit EarlyStopping(EarlyStoppingOptions options);
  ~EarlyStopping() override;

  void on_train_begin(TrainContext& context) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

  // The epoch (0-based) with the best value, or -1 before any.
  int best_epoch() const { return best_epoch_; }
  std::optional<double> best_value() const { return best_; }
  // The epoch at which training was stopped, or -1.
  int stopped_epoch() const { return stopped_epoch_; }

 private:
  EarlyStoppingOptions options_;
  std::string monitor_;  // resolved at train begin
  std::optional<double> best_;
  int best_epoch_ = -1;
  int wait_ = 0;
  int stopped_epoch_ = -1;
  std::unique_ptr<model::Model> best_model_;  // with restore_best
};

}  // namespace streamml::train
