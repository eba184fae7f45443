// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/record_check.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <span>

namespace streamml::model {

data::RecordCheck usable_record_check(const Task& task, std::vector<std::string> feature_names) {
  return [task, names = std::move(feature_names)](std::span<const float> features,
                                                  std::span<const float> labels) -> std::optional<std::string> {
    for (size_t f = 0; f < features.size(); ++f) {
      if (!std::isfinite(features[f])) {
        const std::string name = f < names.size() ? "'" + names[f] + "'" : std::to_string(f);
        return fmt::format("feature {} is {} (features must be finite numbers)", name, features[f]);
      }
    }
    if (labels.size() == 1) {
      std::string why = task.check_label(labels[0]);
      if (!why.empty()) return why;
    }
    return std::nullopt;
  };
}

}  // namespace streamml::model
