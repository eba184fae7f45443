// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/task.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "streamml/common/error.h"

namespace streamml::model {

std::string Task::to_string() const {
  switch (kind) {
    case TaskKind::kBinary: return "binary";
    case TaskKind::kMulticlass: return "multiclass:" + std::to_string(num_classes);
    case TaskKind::kRegression: return "regression";
  }
  return "binary";
}

std::string Task::check_label(float label) const {
  if (!std::isfinite(label)) return fmt::format("label {} is not a finite number", label);
  switch (kind) {
    case TaskKind::kBinary:
      if (label != 0.0f && label != 1.0f) {
        return fmt::format("label {} is not 0 or 1 (task binary)", label);
      }
      return {};
    case TaskKind::kMulticlass:
      if (label != std::floor(label) || label < 0.0f || label >= static_cast<float>(num_classes)) {
        return fmt::format("label {} is not a class of {} (expected an integer in [0, {}))", label,
                           to_string(), num_classes);
      }
      return {};
    case TaskKind::kRegression: return {};
  }
  return {};
}

Task parse_task(std::string_view spec) {
  if (spec == "binary") return Task::binary();
  if (spec == "regression") return Task::regression();
  constexpr std::string_view kPrefix = "multiclass:";
  if (spec.substr(0, kPrefix.size()) == kPrefix) {
    std::string_view count = spec.substr(kPrefix.size());
    int64_t k = 0;
    auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), k);
    if (ec == std::errc() && ptr == count.data() + count.size() && k >= 2 && k <= 1000000) {
      return Task::multiclass(k);
    }
    throw ConfigError(fmt::format("invalid task '{}': the class count '{}' must be an integer >= 2",
                                  spec, count));
  }
  throw ConfigError(
      fmt::format("invalid task '{}': expected binary, multiclass:K or regression", spec));
}

}  // namespace streamml::model
