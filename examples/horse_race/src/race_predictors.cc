// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_predictors.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "horse_race/win_probability.h"
#include "streamml/common/error.h"

namespace streamml::demo {

WinPredictor leader_predictor() {
  return [](const Tick& field, const FeatureMatrix&) {
    std::vector<double> p(field.size(), 0.0);
    if (field.empty()) return p;
    const auto leader = std::min_element(field.begin(), field.end(), [](const Telemetry& a, const Telemetry& b) {
      return a.position != b.position ? a.position < b.position : a.horse < b.horse;
    });
    p[static_cast<size_t>(leader - field.begin())] = 1.0;
    return p;
  };
}

WinPredictor uniform_predictor() {
  return [](const Tick& field, const FeatureMatrix&) {
    return std::vector<double>(field.size(), field.empty() ? 0.0 : 1.0 / static_cast<double>(field.size()));
  };
}

WinPredictor form_heuristic_predictor() {
  return [](const Tick& field, const FeatureMatrix&) {
    const FeatureMatrix form = features_for_tick(field, nullptr, FeatureSet::kFormOnly);
    const auto& names = feature_names(FeatureSet::kFormOnly);
    auto col = [&](const char* name) {
      return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
    };
    const size_t win_rate_rel = col("win_rate_rel");
    const size_t mean_rel = col("form_mean_rel");
    const size_t last = col("form_last_finish");
    const size_t rest_off = col("rest_off_optimum");
    const size_t weight = col("weight_rel_5kg");
    std::vector<double> logits(form.rows);
    for (size_t r = 0; r < form.rows; ++r) {
      // Weights set by hand from the simulator's public form model (see docs/horse_race.md):
      // good recent finishes and a high win rate mean ability; top weight is a handicapper's
      // verdict of class; long layoffs cost a little.
      logits[r] = 4.0 * form.at(r, win_rate_rel) - 3.0 * form.at(r, mean_rel) - 1.0 * form.at(r, last) +
                  0.6 * form.at(r, weight) - 0.5 * form.at(r, rest_off);
    }
    return softmax_within_race(logits);
  };
}

WinPredictor scorer_predictor(LogitScorer scorer, FeatureSet set) {
  return [scorer = std::move(scorer), set](const Tick& field, const FeatureMatrix& features) {
    std::vector<float> logits =
        set == FeatureSet::kLive ? scorer(features) : scorer(select_columns(features, form_feature_indices()));
    if (logits.size() != field.size()) {
      throw InputError(fmt::format("win predictor: scorer returned {} logits for {} horses", logits.size(),
                                   field.size()));
    }
    return softmax_within_race(logits);
  };
}

RaceTrace trace_race(const std::vector<Tick>& ticks, const RaceResult& result, const WinPredictor& predictor,
                     size_t tick_stride) {
  if (tick_stride == 0) throw ConfigError("trace_race: tick_stride must be >= 1");
  RaceTrace trace;
  trace.race_id = result.race_id;
  trace.race_distance_m = result.race_distance_m;
  trace.winner = result.winner();
  if (ticks.empty()) return trace;
  for (const Telemetry& t : ticks.front()) trace.horses.push_back(t.horse);
  std::sort(trace.horses.begin(), trace.horses.end());

  RaceFeatureState state;
  for (size_t k = 0; k < ticks.size(); ++k) {
    const Tick& tick = ticks[k];
    for (const Telemetry& t : tick) state.observe(t);
    if (k % tick_stride != 0 && k + 1 != ticks.size()) continue;
    const auto start = std::chrono::steady_clock::now();
    const FeatureMatrix features = features_for_tick(tick, &state, FeatureSet::kLive);
    const std::vector<double> p = predictor(tick, features);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (p.size() != tick.size()) {
      throw InputError(fmt::format("race {}: predictor returned {} probabilities for {} horses at t={}s",
                                   result.race_id, p.size(), tick.size(), tick.empty() ? 0.0 : tick.front().time_s));
    }
    TickPrediction out;
    out.time_s = tick.empty() ? 0.0 : tick.front().time_s;
    out.latency_us = std::max(1e-3, std::chrono::duration<double, std::micro>(elapsed).count());
    out.probabilities.assign(trace.horses.size(), 0.0);
    out.positions.assign(trace.horses.size(), 0);
    double leader_distance = 0.0;
    for (size_t i = 0; i < tick.size(); ++i) {
      const Telemetry& t = tick[i];
      leader_distance = std::max(leader_distance, t.distance_m);
      const auto it = std::lower_bound(trace.horses.begin(), trace.horses.end(), t.horse);
      if (it == trace.horses.end() || *it != t.horse) {
        throw InputError(fmt::format("race {}: horse {} appears at t={}s but not in the first tick", result.race_id,
                                     t.horse, t.time_s));
      }
      const auto col = static_cast<size_t>(it - trace.horses.begin());
      out.probabilities[col] = p[i];
      out.positions[col] = t.position;
    }
    out.leader_progress = trace.race_distance_m > 0.0 ? std::min(1.0, leader_distance / trace.race_distance_m) : 0.0;
    trace.ticks.push_back(std::move(out));
  }
  return trace;
}

}  // namespace streamml::demo
