// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/train_options.h"

#include <fmt/format.h>

#include <cmath>

#include "streamml/common/error.h"

namespace streamml::train {

OptimizerKind parse_optimizer(std::string_view name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adam") return OptimizerKind::kAdam;
  if (name == "adamw") return OptimizerKind::kAdamW;
  throw ConfigError(fmt::format("invalid optimizer '{}': expected sgd, adam or adamw", name));
}

std::string optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd: return "sgd";
    case OptimizerKind::kAdam: return "adam";
    case OptimizerKind::kAdamW: return "adamw";
  }
  return "adam";
}

void TrainOptions::validate() const {
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) {
    throw ConfigError(fmt::format("invalid learning_rate {}: must be a positive number", learning_rate));
  }
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
    throw ConfigError(fmt::format("invalid weight_decay {}: must be >= 0", weight_decay));
  }
  if (!(momentum >= 0.0 && momentum < 1.0)) {
    throw ConfigError(fmt::format("invalid momentum {}: must be in [0, 1)", momentum));
  }
  if (epochs < 1) throw ConfigError(fmt::format("invalid epochs {}: must be >= 1", epochs));
  if (max_steps < 0) throw ConfigError(fmt::format("invalid max_steps {}: must be >= 0", max_steps));
  if (!(grad_clip_norm >= 0.0)) {
    throw ConfigError(fmt::format("invalid grad_clip_norm {}: must be >= 0", grad_clip_norm));
  }
  if (patience < 0) throw ConfigError(fmt::format("invalid patience {}: must be >= 0", patience));
  if (restore_best && patience == 0) throw ConfigError("restore_best needs early stopping: set patience >= 1");
  if (!(min_delta >= 0.0)) {
    throw ConfigError(fmt::format("invalid min_delta {}: must be >= 0", min_delta));
  }
  if (!(validation_split >= 0.0 && validation_split < 1.0)) {
    throw ConfigError(fmt::format("invalid validation_split {}: use a fraction in (0, 1), or 0 for none",
                                  validation_split));
  }
  lr_schedule.validate();
}

}  // namespace streamml::train
