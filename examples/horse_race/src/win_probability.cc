// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/win_probability.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

template <typename T>
std::vector<double> softmax(std::span<const T> logits) {
  std::vector<double> p(logits.size());
  if (logits.empty()) return p;
  double max_logit = -INFINITY;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double x = static_cast<double>(logits[i]);
    if (!std::isfinite(x)) {
      throw InputError(fmt::format("win probabilities: logit of row {} is not finite ({})", i, x));
    }
    max_logit = std::max(max_logit, x);
  }
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    p[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
    sum += p[i];
  }
  for (double& x : p) x /= sum;  // sum >= 1: the max term is exp(0)
  return p;
}

}  // namespace

std::vector<double> softmax_within_race(std::span<const float> logits) { return softmax(logits); }
std::vector<double> softmax_within_race(std::span<const double> logits) { return softmax(logits); }

std::vector<size_t> rank_by_probability(std::span<const double> probabilities, std::span<const int32_t> positions) {
  std::vector<size_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const bool use_positions = positions.size() == probabilities.size();
  // NaN ranks last instead of breaking the ordering.
  auto key = [&](size_t i) { return std::isnan(probabilities[i]) ? -1.0 : probabilities[i]; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (key(a) != key(b)) return key(a) > key(b);
    if (use_positions && positions[a] != positions[b]) return positions[a] < positions[b];
    return a < b;
  });
  return order;
}

std::vector<size_t> rank_by_probability(std::span<const double> probabilities,
                                        std::span<const RunnerStanding> standings) {
  std::vector<size_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const bool use_standings = standings.size() == probabilities.size();
  auto key = [&](size_t i) { return std::isnan(probabilities[i]) ? -1.0 : probabilities[i]; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (key(a) != key(b)) return key(a) > key(b);
    if (use_standings) {
      const RunnerStanding& x = standings[a];
      const RunnerStanding& y = standings[b];
      if (x.finished != y.finished) return x.finished;
      if (x.position != y.position) return x.position < y.position;
    }
    return a < b;
  });
  return order;
}

std::vector<RunnerStanding> standings_of(const Tick& field) {
  std::vector<RunnerStanding> out;
  out.reserve(field.size());
  for (const Telemetry& t : field) out.push_back(RunnerStanding{t.position, t.finished});
  return out;
}

std::vector<double> settle_finished(const Tick& field, std::span<const double> probabilities) {
  std::vector<double> p(probabilities.begin(), probabilities.end());
  if (field.size() != p.size()) return p;
  const auto winner =
      std::find_if(field.begin(), field.end(), [](const Telemetry& t) { return t.finished && t.position == 1; });
  if (winner != field.end()) {
    std::fill(p.begin(), p.end(), 0.0);
    p[static_cast<size_t>(winner - field.begin())] = 1.0;
    return p;
  }
  size_t running = 0;
  double running_mass = 0.0;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i].finished) continue;
    ++running;
    if (std::isfinite(p[i]) && p[i] > 0.0) running_mass += p[i];
  }
  if (running == field.size() || running == 0) return p;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i].finished) {
      p[i] = 0.0;
    } else if (running_mass > 0.0) {
      p[i] = std::isfinite(p[i]) && p[i] > 0.0 ? p[i] / running_mass : 0.0;
    } else {
      p[i] = 1.0 / static_cast<double>(running);
    }
  }
  return p;
}

std::vector<int32_t> positions_of(const Tick& field) {
  std::vector<int32_t> out;
  out.reserve(field.size());
  for (const Telemetry& t : field) out.push_back(t.position);
  return out;
}

}  // namespace streamml::demo
