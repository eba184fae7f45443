// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ModelCheckpoint: saves the model file (weights, optimizer state, offsets,
// metadata) during training, atomically, so a crash never leaves a torn
// file. The path may contain "{epoch}" (1-based) and "{step}", replaced when
// saving; without them each checkpoint overwrites the previous one.
// With save_best_only (Keras' ModelCheckpoint(save_best_only=True)) it saves
// at the end of an epoch only when the monitored epoch metric improved on the
// best so far (by more than min_delta), so the file holds the best epoch.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "streamml/train/callback.h"

namespace streamml::train {

struct CheckpointOptions {
  std::string path{};       // model file path, optionally with {epoch} and {step}
  int64_t every_steps = 0;  // save every N optimizer steps; 0: at the end of each epoch
  bool at_train_end = true;  // also save when training ends (not with save_best_only)
  bool save_best_only = false;  // save at epoch ends that improve `monitor` only
  std::string monitor{};     // save_best_only: epoch metric; "": val_loss with validation, else loss
  double min_delta = 0.0;    // save_best_only: smallest change that counts as an improvement (>= 0)
};

class ModelCheckpoint final : public Callback {
 public:
  // Throws ConfigError when path is empty or every_steps < 0.
  explicit ModelCheckpoint(CheckpointOptions options);

  void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

  void on_train_begin(TrainContext& context) override;

  int64_t saves() const { return saves_; }
  // save_best_only: the best epoch so far (1-based; 0: none) and its value.
  int best_epoch() const { return best_epoch_; }
  double best_value() const { return best_; }
  const std::string& last_path() const { return last_path_; }

 private:
  void save(TrainContext& context);

  CheckpointOptions options_;
  int64_t saves_ = 0;
  int64_t last_saved_step_ = -1;
  std::string last_path_;
  std::string monitor_;  // resolved at train begin
  bool has_best_ = false;
  double best_ = 0.0;
  int best_epoch_ = 0;
};

}  // namespace streamml::train
