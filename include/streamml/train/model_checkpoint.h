// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ModelCheckpoint: saves the model file (weights, optimizer state, offsets,
// metadata) during training, atomically, so a crash never leaves a torn
// file. The path may contain "{epoch}" (1-based) and "{step}", replaced when
// saving; without them each checkpoint overwrites the previous one.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "streamml/train/callback.h"

namespace streamml::train {

struct CheckpointOptions {
  std::string path{};       // model file path, optionally with {epoch} and {step}
  int64_t every_steps = 0;  // save every N optimizer steps; 0: at the end of each epoch
  bool at_train_end = true;  // also save when training ends
};

class ModelCheckpoint final : public Callback {
 public:
  // Throws ConfigError when path is empty or every_steps < 0.
  explicit ModelCheckpoint(CheckpointOptions options);

  void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

  int64_t saves() const { return saves_; }
  const std::string& last_path() const { return last_path_; }

 private:
  void save(TrainContext& context);

  CheckpointOptions options_;
  int64_t saves_ = 0;
  int64_t last_saved_step_ = -1;
  std::string last_path_;
};

}  // namespace streamml::train
