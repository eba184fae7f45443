// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/early_stopping.h"

#include <fmt/format.h>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/model/model.h"
#include "streamml/train/metrics.h"

namespace streamml::train {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  if (options_.patience < 1) {
    throw ConfigError(fmt::format("invalid early-stopping patience {}: must be >= 1", options_.patience));
  }
  if (!(options_.min_delta >= 0.0)) {
    throw ConfigError(fmt::format("invalid early-stopping min_delta {}: must be >= 0", options_.min_delta));
  }
}

EarlyStopping::~EarlyStopping() = default;

void EarlyStopping::on_train_begin(TrainContext& context) {
  monitor_ = options_.monitor;
  if (monitor_.empty()) monitor_ = context.has_validation ? "val_loss" : "loss";
  if (monitor_.rfind("val_", 0) == 0 && !context.has_validation) {
    throw ConfigError(fmt::format(
        "early stopping monitors '{}' but fit() has no validation source", monitor_));
  }
  best_.reset();
  best_epoch_ = -1;
  wait_ = 0;
  stopped_epoch_ = -1;
  best_model_.reset();
}

void EarlyStopping::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  auto it = logs.find(monitor_);
  if (it == logs.end()) {
    throw ConfigError(fmt::format("early stopping monitors '{}', which is not an epoch metric",
                                  monitor_));
  }
  const double value = it->second;
  const bool higher = higher_is_better(monitor_);
  const bool improved = !best_ || (higher ? value > *best_ + options_.min_delta
                                          : value < *best_ - options_.min_delta);
  if (improved) {
    best_ = value;
    best_epoch_ = epoch;
    wait_ = 0;
    if (options_.restore_best && context.model != nullptr) {
      best_model_ = std::make_unique<model::Model>(context.model->clone());
    }
    return;
  }
  if (++wait_ >= options_.patience) {
    stopped_epoch_ = epoch;
    context.stop_training = true;
    context.stop_reason = fmt::format(
        "early stopping: {} did not improve for {} epochs (best {:.6g} at epoch {})", monitor_,
        options_.patience, *best_, best_epoch_ + 1);
    log_info("{}", context.stop_reason);
  }
}

void EarlyStopping::on_train_end(TrainContext& context, const Logs& logs) {
  if (best_model_ && context.model != nullptr && best_epoch_ >= 0) {
    log_info("restoring the weights of epoch {} ({} = {:.6g})", best_epoch_ + 1, monitor_, *best_);
    *context.model = std::move(*best_model_);
    best_model_.reset();
  }
}

}  // namespace streamml::train
