// Copyright streamml authors. Licensed under the Apache License 2.0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "streamml/train/lr_schedule.h"

namespace streamml::train {

enum class OptimizerKind { kSgd, kAdam, kAdamW };

// Parses "sgd|adam|adamw"; throws ConfigError naming the value.
OptimizerKind parse_optimizer(std::string_view name);
std::string optimizer_name(OptimizerKind kind);

// How a model without feature statistics gets them.
enum class StatsMode {
  kFullPass,    // one pass over the training source at fit start, then reset() (bounded sources)
  kFirstBatch,  // from the first training batch, then fixed (streams, online learning)
};

struct TrainOptions {
  OptimizerKind optimizer = OptimizerKind::kAdam;  // sgd, adam or adamw
  double learning_rate = 1e-3;   // step size (> 0)
  double weight_decay = 0.0;     // L2 penalty (sgd, adam) or decoupled decay (adamw), >= 0
  double momentum = 0.0;         // sgd momentum in [0, 1)
  int epochs = 10;               // passes over the training source (>= 1)
  int64_t max_steps = 0;         // stop after this many optimizer steps in total; 0: no limit
  uint64_t seed = 42;            // seeds LibTorch (dropout) at fit start
  double grad_clip_norm = 0.0;   // clip the global gradient norm to this; 0: off
  int patience = 0;              // early stopping: epochs without improvement; 0: off
  std::string monitor{};         // early-stopping metric; "": val_loss with validation, else loss
  double min_delta = 0.0;        // smallest change of `monitor` that counts as improvement
  bool restore_best = false;     // with patience: end with the weights of the best epoch (as Keras)
  LrSchedule lr_schedule{};      // learning-rate schedule over epochs (train/lr_schedule.h); none by default
  double validation_split = 0.0;  // fit() without a validation source: the last fraction of the training
                                  // records validate (data/validation_split.h); 0: off, else in (0, 1)
  size_t shuffle_buffer = 0;     // fit(): shuffle training rows through a buffer of this many (data/
                                 // shuffle_source.h; seeded by seed); 0: source order
  StatsMode stats_mode = StatsMode::kFullPass;  // see StatsMode

  // Throws ConfigError naming the first invalid field.
  void validate() const;
};

}  // namespace streamml::train
