// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The live path of the demo without Kafka: each telemetry record updates its
// race's snapshot (latest record per horse), recomputes the features of the
// whole field and asks the predictor for new win probabilities, so the
// ranking changes with every record. The result is a LeaderboardView plus the
// time it took (record in -> ranking out). A RaceTrace with one entry per
// complete tick is kept for the report and the chart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "horse_race/leaderboard.h"
#include "horse_race/race_features.h"
#include "horse_race/race_predictors.h"
#include "horse_race/race_report.h"

namespace streamml::demo {

struct LiveRaceOptions {
  bool keep_trace = true;  // record one TickPrediction per complete tick
  size_t max_races = 64;   // races tracked at once; opening one more forgets the least recently updated (logged)
};

// The outcome of one record.
struct LiveUpdate {
  bool accepted = false;         // false: stale or duplicate record, nothing changed
  LeaderboardView view;          // the race's ranking after the record (when accepted)
};

// Not thread-safe: one thread feeds records (the predictor is called on it).
class LiveRaceTracker {
 public:
  explicit LiveRaceTracker(WinPredictor predictor, LiveRaceOptions options = {});

  // Applies one record and re-ranks its race. Throws what the predictor throws.
  LiveUpdate update(const Telemetry& record);

  // Closes a race: returns its trace with the winner set (nullopt when the race
  // was never seen) and forgets its state.
  std::optional<RaceTrace> finish(const RaceResult& result);

  size_t active_races() const { return races_.size(); }

 private:
  struct RaceState {
    RaceFeatureState features;
    RaceTrace trace;
    size_t updates = 0;
    uint64_t last_used = 0;
  };
  RaceState& race_for(const Telemetry& record);

  WinPredictor predictor_;
  LiveRaceOptions options_;
  std::map<int64_t, RaceState> races_;
  uint64_t clock_ = 0;
};

}  // namespace streamml::demo
