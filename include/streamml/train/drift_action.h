// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// DriftAction: what online learning does when its drift detector raises an
// alarm (OnlineTrainer):
//   log              count and report the drift, change nothing
//   reset-optimizer  drop the optimizer's state (Adam's moments)
//   boost-lr=F:N     multiply the learning rate by F for the next N batches
//   reset-model      fresh weights and optimizer (built-in models)
//   retrain-window=N fresh weights and optimizer, then one pass over the
//                    last N records (at least), the alarm's batch included
// Every action also reports the drift (events, logs, counters). A value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace streamml::train {

enum class DriftActionKind { kLog, kResetOptimizer, kBoostLr, kResetModel, kRetrainWindow };

struct DriftAction {
  DriftActionKind kind = DriftActionKind::kLog;
  double factor = 1.0;  // boost-lr: learning-rate multiplier (> 0)
  int64_t batches = 0;  // boost-lr: batches the boost lasts (>= 1)
  int64_t records = 0;  // retrain-window: records kept for retraining (>= 1)

  // The action as parse_drift_action() reads it ("boost-lr=10:50").
  std::string to_string() const;
};

// Parses an action (see above); throws ConfigError naming the value.
DriftAction parse_drift_action(std::string_view text);

}  // namespace streamml::train
