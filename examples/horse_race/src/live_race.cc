// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/live_race.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "streamml/common/logging.h"

namespace streamml::demo {

LiveRaceTracker::LiveRaceTracker(WinPredictor predictor, LiveRaceOptions options)
    : predictor_(std::move(predictor)), options_(options) {}

LiveRaceTracker::RaceState& LiveRaceTracker::race_for(const Telemetry& record) {
  auto [it, inserted] = races_.try_emplace(record.race_id);
  it->second.last_used = ++clock_;  // before eviction, so the race just opened is never the one forgotten
  if (inserted) {
    RaceTrace& trace = it->second.trace;
    trace.race_id = record.race_id;
    trace.race_distance_m = record.race_distance_m();
    trace.horses.resize(static_cast<size_t>(std::max(record.contestants, 0)));
    std::iota(trace.horses.begin(), trace.horses.end(), 1);
    if (races_.size() > std::max<size_t>(1, options_.max_races)) {
      const auto oldest = std::min_element(races_.begin(), races_.end(), [&](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      log_warn("live race: forgetting race {} (more than {} races open)", oldest->first, options_.max_races);
      races_.erase(oldest);
    }
  }
  return it->second;
}

LiveUpdate LiveRaceTracker::update(const Telemetry& record) {
  const auto start = std::chrono::steady_clock::now();
  LiveUpdate out;
  RaceState& race = race_for(record);
  if (!race.features.observe(record)) return out;
  const Tick field = race.features.field();
  const FeatureMatrix features = features_for_tick(field, &race.features, FeatureSet::kLive);
  const std::vector<double> probabilities = predictor_(field, features);
  const double latency_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  out.accepted = true;
  out.view = make_leaderboard_view(field, probabilities, latency_us, ++race.updates);

  // A tick is complete when every horse of the race has reported at this record's time.
  const bool tick_complete =
      field.size() == race.trace.horses.size() &&
      std::all_of(field.begin(), field.end(), [&](const Telemetry& t) { return t.time_s == record.time_s; });
  if (options_.keep_trace && tick_complete) {
    TickPrediction tick;
    tick.time_s = record.time_s;
    tick.leader_progress = out.view.leader_progress;
    tick.latency_us = latency_us;
    tick.probabilities.assign(race.trace.horses.size(), 0.0);
    tick.positions.assign(race.trace.horses.size(), 0);
    for (size_t i = 0; i < field.size(); ++i) {
      const auto col = static_cast<size_t>(field[i].horse - 1);
      if (col >= tick.probabilities.size()) continue;
      tick.probabilities[col] = i < probabilities.size() ? probabilities[i] : 0.0;
      tick.positions[col] = field[i].position;
    }
    race.trace.ticks.push_back(std::move(tick));
  }
  return out;
}

std::optional<RaceTrace> LiveRaceTracker::finish(const RaceResult& result) {
  const auto it = races_.find(result.race_id);
  if (it == races_.end()) return std::nullopt;
  RaceTrace trace = std::move(it->second.trace);
  trace.winner = result.winner();
  races_.erase(it);
  return trace;
}

}  // namespace streamml::demo
