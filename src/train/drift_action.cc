// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/drift_action.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "streamml/common/error.h"

namespace streamml::train {
namespace {

constexpr const char* kActions = "log, reset-optimizer, boost-lr=F:N, reset-model or retrain-window=N";

int64_t parse_count(std::string_view text, std::string_view whole) {
  const std::string s(text);
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 1) {
    throw ConfigError(fmt::format("drift action '{}': '{}' is not a count of 1 or more", whole, text));
  }
  return v;
}

}  // namespace

std::string DriftAction::to_string() const {
  switch (kind) {
    case DriftActionKind::kLog: return "log";
    case DriftActionKind::kResetOptimizer: return "reset-optimizer";
    case DriftActionKind::kBoostLr: return fmt::format("boost-lr={}:{}", factor, batches);
    case DriftActionKind::kResetModel: return "reset-model";
    case DriftActionKind::kRetrainWindow: return fmt::format("retrain-window={}", records);
  }
  return "log";
}

DriftAction parse_drift_action(std::string_view text) {
  DriftAction action;
  const size_t eq = text.find('=');
  const std::string_view name = text.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? std::string_view() : text.substr(eq + 1);
  const bool has_value = eq != std::string_view::npos;
  if (name == "log" && !has_value) return action;
  if (name == "reset-optimizer" && !has_value) {
    action.kind = DriftActionKind::kResetOptimizer;
    return action;
  }
  if (name == "reset-model" && !has_value) {
    action.kind = DriftActionKind::kResetModel;
    return action;
  }
  if (name == "boost-lr" && has_value) {
    const size_t colon = value.find(':');
    if (colon == std::string_view::npos) {
      throw ConfigError(fmt::format("drift action '{}' is invalid: use boost-lr=FACTOR:BATCHES", text));
    }
    const std::string factor(value.substr(0, colon));
    char* end = nullptr;
    action.factor = std::strtod(factor.c_str(), &end);
    if (factor.empty() || *end != '\0' || !(action.factor > 0.0) || !std::isfinite(action.factor)) {
      throw ConfigError(fmt::format("drift action '{}': factor '{}' is not a number > 0", text, factor));
    }
    action.batches = parse_count(value.substr(colon + 1), text);
    action.kind = DriftActionKind::kBoostLr;
    return action;
  }
  if (name == "retrain-window" && has_value) {
    action.records = parse_count(value, text);
    action.kind = DriftActionKind::kRetrainWindow;
    return action;
  }
  throw ConfigError(fmt::format("drift action '{}' is unknown: use {}", text, kActions));
}

}  // namespace streamml::train
