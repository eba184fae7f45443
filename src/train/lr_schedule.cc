// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/lr_schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "streamml/common/error.h"
#include "streamml/train/metrics.h"

namespace streamml::train {
namespace {

constexpr const char* kForms = "expected step:E:G (e.g. step:10:0.5), cosine or plateau:P:F (e.g. plateau:3:0.5)";

double parse_number(std::string_view spec, std::string_view text) {
  std::string s(text);
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (s.empty() || used != s.size()) throw ConfigError(fmt::format("--lr-schedule '{}': '{}' is not a number; {}", spec, s, kForms));
  return value;
}

}  // namespace

void LrSchedule::validate() const {
  if (kind == LrScheduleKind::kNone || kind == LrScheduleKind::kCosine) return;
  if (kind == LrScheduleKind::kStep && every_epochs < 1) {
    throw ConfigError(fmt::format("--lr-schedule step: E {} is invalid: use at least 1 epoch", every_epochs));
  }
  if (kind == LrScheduleKind::kPlateau && patience < 1) {
    throw ConfigError(fmt::format("--lr-schedule plateau: P {} is invalid: use at least 1 epoch", patience));
  }
  if (!(factor > 0.0 && factor < 1.0)) {
    throw ConfigError(fmt::format("--lr-schedule factor {} is invalid: use a number in (0, 1)", factor));
  }
}

std::string LrSchedule::to_string() const {
  switch (kind) {
    case LrScheduleKind::kNone: return "";
    case LrScheduleKind::kStep: return fmt::format("step:{}:{}", every_epochs, factor);
    case LrScheduleKind::kCosine: return "cosine";
    case LrScheduleKind::kPlateau: return fmt::format("plateau:{}:{}", patience, factor);
  }
  return "";
}

LrSchedule parse_lr_schedule(std::string_view spec) {
  LrSchedule s;
  if (spec.empty() || spec == "none") return s;
  if (spec == "cosine") {
    s.kind = LrScheduleKind::kCosine;
    return s;
  }
  const size_t first = spec.find(':');
  const std::string_view name = spec.substr(0, first);
  if ((name != "step" && name != "plateau") || first == std::string_view::npos) {
    throw ConfigError(fmt::format("--lr-schedule '{}' is invalid: {}", spec, kForms));
  }
  const std::string_view rest = spec.substr(first + 1);
  const size_t second = rest.find(':');
  if (second == std::string_view::npos) throw ConfigError(fmt::format("--lr-schedule '{}' is invalid: {}", spec, kForms));
  const double count = parse_number(spec, rest.substr(0, second));
  if (count != std::floor(count)) {
    throw ConfigError(fmt::format("--lr-schedule '{}': {} must be a whole number of epochs", spec, count));
  }
  s.kind = name == "step" ? LrScheduleKind::kStep : LrScheduleKind::kPlateau;
  (name == "step" ? s.every_epochs : s.patience) = static_cast<int>(count);
  s.factor = parse_number(spec, rest.substr(second + 1));
  s.validate();
  return s;
}

LrScheduler::LrScheduler(LrSchedule schedule, double base_rate, int epochs, std::string monitor, double min_delta)
    : schedule_(schedule),
      base_(base_rate),
      current_(base_rate),
      epochs_(epochs),
      monitor_(std::move(monitor)),
      min_delta_(min_delta) {
  schedule_.validate();
}

double LrScheduler::rate(int epoch) {
  switch (schedule_.kind) {
    case LrScheduleKind::kNone:
    case LrScheduleKind::kPlateau:
      return current_;
    case LrScheduleKind::kStep:
      current_ = base_ * std::pow(schedule_.factor, epoch / schedule_.every_epochs);
      return current_;
    case LrScheduleKind::kCosine:
      // Never exactly 0 (the last epoch still trains): e < E.
      current_ = base_ * 0.5 * (1.0 + std::cos(std::numbers::pi * epoch / std::max(epochs_, 1)));
      return current_;
  }
  return current_;
}

void LrScheduler::observe(const std::map<std::string, double>& logs) {
  if (schedule_.kind != LrScheduleKind::kPlateau) return;
  auto it = logs.find(monitor_);
  if (it == logs.end()) {
    throw ConfigError(fmt::format("--lr-schedule plateau monitors '{}', which is not an epoch metric", monitor_));
  }
  const std::optional<double> value = it->second;
  const bool higher = higher_is_better(monitor_);
  const bool improved = !best_ || (higher ? *value > *best_ + min_delta_ : *value < *best_ - min_delta_);
  if (improved) {
    best_ = *value;
    wait_ = 0;
    return;
  }
  if (++wait_ >= schedule_.patience) {
    current_ *= schedule_.factor;
    wait_ = 0;
  }
}

}  // namespace streamml::train
