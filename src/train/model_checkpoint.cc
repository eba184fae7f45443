// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/model_checkpoint.h"

#include <fmt/format.h>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/model/model.h"
#include "streamml/train/metrics.h"

namespace streamml::train {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(CheckpointOptions options) : options_(std::move(options)) {
  if (options_.path.empty()) throw ConfigError("checkpoint path is empty");
  if (options_.every_steps < 0) {
    throw ConfigError(fmt::format("invalid checkpoint every_steps {}: must be >= 0", options_.every_steps));
  }
  if (!(options_.min_delta >= 0.0)) {
    throw ConfigError(fmt::format("invalid checkpoint min_delta {}: must be >= 0", options_.min_delta));
  }
}

void ModelCheckpoint::on_train_begin(TrainContext& context) {
  if (!options_.save_best_only) return;
  monitor_ = options_.monitor.empty() ? (context.has_validation ? "val_loss" : "loss") : options_.monitor;
  if (monitor_.rfind("val_", 0) == 0 && !context.has_validation) {
    throw ConfigError(fmt::format("the best-model checkpoint monitors '{}' but there is no validation source", monitor_));
  }
  has_best_ = false;
  best_epoch_ = 0;
}

void ModelCheckpoint::save(TrainContext& context) {
  if (context.model == nullptr || context.step == last_saved_step_) return;
  std::string path = options_.path;
  replace_all(path, "{epoch}", std::to_string(context.epoch + 1));
  replace_all(path, "{step}", std::to_string(context.step));
  context.model->set_metadata("checkpoint_epoch", std::to_string(context.epoch + 1));
  context.model->set_metadata("checkpoint_step", std::to_string(context.step));
  context.model->save(path);
  last_saved_step_ = context.step;
  last_path_ = path;
  ++saves_;
  log_debug("checkpoint saved to {} (epoch {}, step {})", path, context.epoch + 1, context.step);
}

void ModelCheckpoint::on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {
  if (options_.save_best_only) return;
  if (options_.every_steps > 0 && step % options_.every_steps == 0) save(context);
}

void ModelCheckpoint::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  if (options_.save_best_only) {
    auto it = logs.find(monitor_);
    if (it == logs.end()) {
      throw ConfigError(fmt::format("the best-model checkpoint monitors '{}', which is not an epoch metric", monitor_));
    }
    const double value = it->second;
    const bool higher = higher_is_better(monitor_);
    const bool improved = !has_best_ || (higher ? value > best_ + options_.min_delta : value < best_ - options_.min_delta);
    if (!improved) return;
    log_info("epoch {}: {} improved to {:.4g}, saving the model to {}", epoch + 1, monitor_, value, options_.path);
    has_best_ = true;
    best_ = value;
    best_epoch_ = epoch + 1;
    last_saved_step_ = -1;  // the weights changed even when no step was taken since
    save(context);
    return;
  }
  if (options_.every_steps == 0) save(context);
}

void ModelCheckpoint::on_train_end(TrainContext& context, const Logs& logs) {
  if (options_.at_train_end && !options_.save_best_only) save(context);
}

}  // namespace streamml::train
