// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/model_checkpoint.h"

#include <fmt/format.h>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/model/model.h"

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
  if (options_.every_steps > 0 && step % options_.every_steps == 0) save(context);
}

void ModelCheckpoint::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  if (options_.every_steps == 0) save(context);
}

void ModelCheckpoint::on_train_end(TrainContext& context, const Logs& logs) {
  if (options_.at_train_end) save(context);
}

}  // namespace streamml::train
