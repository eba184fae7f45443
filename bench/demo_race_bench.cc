// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Speed of the horse-race demo's pure parts: the live path must re-rank a
// race within milliseconds of a record (goal: p99 well under 1 ms per record
// before the model's own forward pass).
#include <benchmark/benchmark.h>

#include "horse_race/live_race.h"
#include "horse_race/race.h"
#include "horse_race/race_features.h"
#include "horse_race/race_predictors.h"
#include "horse_race/race_record.h"

namespace streamml::demo {
namespace {

Race big_race() {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 1, .min_horses = 14, .max_horses = 14});
  return sim.next();
}

void BM_SimulateRace(benchmark::State& state) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 1});
  for (auto _ : state) benchmark::DoNotOptimize(sim.next());
}
BENCHMARK(BM_SimulateRace);

void BM_FeaturesForTick14(benchmark::State& state) {
  const Race race = big_race();
  RaceFeatureState features;
  const Tick& tick = race.ticks[race.ticks.size() / 2];
  for (const Telemetry& t : tick) features.observe(t);
  for (auto _ : state) benchmark::DoNotOptimize(features_for_tick(tick, &features));
}
BENCHMARK(BM_FeaturesForTick14);

void BM_LiveUpdatePerRecord14(benchmark::State& state) {
  const Race race = big_race();
  size_t k = 0, i = 0;
  LiveRaceTracker tracker(form_heuristic_predictor(), LiveRaceOptions{.keep_trace = false});
  for (auto _ : state) {
    benchmark::DoNotOptimize(tracker.update(race.ticks[k][i]));
    if (++i == race.ticks[k].size()) {
      i = 0;
      if (++k == race.ticks.size()) {
        k = 0;
        state.PauseTiming();
        tracker.finish(race.result);
        state.ResumeTiming();
      }
    }
  }
}
BENCHMARK(BM_LiveUpdatePerRecord14);

void BM_ParseTelemetry(benchmark::State& state) {
  const Race race = big_race();
  const std::string line = encode_telemetry(race.ticks[10][3]);
  for (auto _ : state) benchmark::DoNotOptimize(parse_race_record(line));
}
BENCHMARK(BM_ParseTelemetry);

}  // namespace
}  // namespace streamml::demo

BENCHMARK_MAIN();
