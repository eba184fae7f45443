// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

Telemetry runner(int32_t horse, double distance, int32_t position, double speed, int32_t contestants = 3) {
  Telemetry t;
  t.race_id = 1;
  t.horse = horse;
  t.time_s = 30.0;
  t.distance_m = distance;
  t.remaining_m = 1000.0 - distance;
  t.position = position;
  t.speed_mps = speed;
  t.contestants = contestants;
  return t;
}

size_t column(const char* name, FeatureSet set = FeatureSet::kLive) {
  const auto& names = feature_names(set);
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return static_cast<size_t>(it - names.begin());
}

TEST(RaceFeatures, NamesAreUniqueAndMatchTheMatrixWidth) {
  const auto& live = feature_names(FeatureSet::kLive);
  const auto& form = feature_names(FeatureSet::kFormOnly);
  EXPECT_EQ(live.size(), 23u);
  EXPECT_EQ(std::set<std::string>(live.begin(), live.end()).size(), live.size());
  ASSERT_EQ(form.size(), form_feature_indices().size());
  for (size_t i = 0; i < form.size(); ++i) EXPECT_EQ(form[i], live[form_feature_indices()[i]]);
  // The pre-race subset holds no in-race information.
  for (const char* in_race : {"progress", "position_frac", "gap_leader_100m", "speed_rel", "finished"}) {
    EXPECT_EQ(std::find(form.begin(), form.end(), in_race), form.end()) << in_race;
  }
  const Tick field = {runner(1, 500, 1, 16), runner(2, 490, 2, 17), runner(3, 470, 3, 15)};
  EXPECT_EQ(features_for_tick(field).cols, live.size());
  EXPECT_EQ(features_for_tick(field, nullptr, FeatureSet::kFormOnly).cols, form.size());
}

TEST(RaceFeatures, HandComputedInRaceFeatures) {
  Tick field = {runner(1, 500, 1, 16), runner(2, 490, 2, 17), runner(3, 470, 3, 15)};
  field[0].form.last_finishes = {2, 4, 0, 0, 0};
  field[0].form.win_rate = 0.5f;
  field[0].form.weight_kg = 58;
  field[1].form.weight_kg = 56;
  field[2].form.weight_kg = 54;
  const FeatureMatrix m = features_for_tick(field);
  ASSERT_EQ(m.rows, 3u);
  EXPECT_EQ(m.horses, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_FLOAT_EQ(m.at(0, column("progress")), 0.5f);
  EXPECT_FLOAT_EQ(m.at(2, column("leader_progress")), 0.5f);
  EXPECT_FLOAT_EQ(m.at(0, column("position_frac")), 0.0f);
  EXPECT_FLOAT_EQ(m.at(2, column("position_frac")), 1.0f);
  EXPECT_FLOAT_EQ(m.at(2, column("gap_leader_100m")), 0.3f);
  EXPECT_FLOAT_EQ(m.at(2, column("gap_leader_frac")), 0.03f);
  EXPECT_FLOAT_EQ(m.at(1, column("gap_ahead_10m")), 1.0f);
  EXPECT_FLOAT_EQ(m.at(1, column("gap_behind_10m")), 2.0f);
  EXPECT_FLOAT_EQ(m.at(0, column("gap_ahead_10m")), 0.0f);
  EXPECT_FLOAT_EQ(m.at(1, column("speed_rel")), 17.0f / 16.0f - 1.0f);
  EXPECT_FLOAT_EQ(m.at(0, column("speed_trend_mps")), 0.0f) << "no state, no trend";
  EXPECT_FLOAT_EQ(m.at(0, column("inv_contestants")), 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(m.at(0, column("form_mean_finish")), 0.3f);
  EXPECT_FLOAT_EQ(m.at(0, column("form_best_finish")), 0.2f);
  EXPECT_FLOAT_EQ(m.at(0, column("form_last_finish")), 0.2f);
  EXPECT_FLOAT_EQ(m.at(0, column("form_runs")), 0.4f);
  EXPECT_FLOAT_EQ(m.at(1, column("form_mean_finish")), 0.55f) << "debutants count as mid-field";
  EXPECT_FLOAT_EQ(m.at(0, column("win_rate_rel")), 0.5f - 0.5f / 3.0f);
  EXPECT_FLOAT_EQ(m.at(0, column("weight_rel_5kg")), 0.4f);
  EXPECT_FLOAT_EQ(m.at(2, column("weight_rel_5kg")), -0.4f);
}

TEST(RaceFeatures, StateTracksSpeedTrendAndLiveSnapshot) {
  RaceFeatureState state;
  for (int k = 0; k < 6; ++k) {
    Telemetry t = runner(1, 10.0 * k, 1, 10.0 + k);
    t.time_s = k * 0.5;
    EXPECT_TRUE(state.observe(t));
  }
  // Previous 4 speeds: 11, 12, 13, 14 (mean 12.5); current 15.
  EXPECT_FLOAT_EQ(state.speed_trend(1), 2.5f);
  EXPECT_FLOAT_EQ(state.speed_trend(2), 0.0f) << "unknown horse";

  Telemetry stale = runner(1, 0, 1, 99);
  stale.time_s = 1.0;
  EXPECT_FALSE(state.observe(stale)) << "out-of-order record is ignored";
  Telemetry other_race = runner(2, 0, 2, 10);
  other_race.race_id = 2;
  EXPECT_FALSE(state.observe(other_race));
  EXPECT_EQ(state.records(), 6u);

  Telemetry second = runner(2, 20, 2, 12);
  second.time_s = 2.5;
  EXPECT_TRUE(state.observe(second));
  const Tick snapshot = state.field();
  ASSERT_EQ(snapshot.size(), 2u);
  EXPECT_EQ(snapshot[0].speed_mps, 15.0);
  EXPECT_EQ(snapshot[1].horse, 2);
  const FeatureMatrix m = features_for_tick(snapshot, &state);
  EXPECT_FLOAT_EQ(m.at(0, column("speed_trend_mps")), 2.5f);
}

TEST(RaceFeatures, SimulatedRaceFeaturesAreFinite) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 8});
  for (int r = 0; r < 5; ++r) {
    const Race race = sim.next();
    RaceFeatureState state;
    for (const Tick& tick : race.ticks) {
      const FeatureMatrix m = state.next_tick(tick);
      ASSERT_EQ(m.rows, race.horses.size());
      ASSERT_EQ(m.values.size(), m.rows * m.cols);
      for (float v : m.values) ASSERT_TRUE(std::isfinite(v));
    }
  }
}

TEST(RaceFeatures, OddInputStaysFinite) {
  Tick field = {runner(1, 0, 1, 0, 1)};
  field[0].remaining_m = 0;  // zero race distance
  const FeatureMatrix m = features_for_tick(field);
  for (float v : m.values) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(features_for_tick({}).rows, 0u);
}

TEST(RaceFeatures, TrainingRowsLabelTheWinner) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 10});
  const Race race = sim.next();
  const TrainingRows rows = training_rows(race.ticks, race.result, FeatureSet::kLive, /*tick_stride=*/10);
  const size_t groups = (race.ticks.size() - 1) / 10 + 1 + ((race.ticks.size() - 1) % 10 != 0 ? 1 : 0);
  ASSERT_EQ(rows.group_begin.size(), groups + 1);
  EXPECT_EQ(rows.group_begin.back(), rows.features.rows);
  EXPECT_EQ(rows.features.rows, groups * race.horses.size());
  EXPECT_EQ(rows.time_s.back(), race.ticks.back().front().time_s);
  for (size_t g = 0; g + 1 < rows.group_begin.size(); ++g) {
    float wins = 0;
    for (size_t r = rows.group_begin[g]; r < rows.group_begin[g + 1]; ++r) {
      wins += rows.win[r];
      EXPECT_EQ(rows.finish_position[r], race.result.position_of(rows.features.horses[r]));
      EXPECT_EQ(rows.win[r] == 1.0f, rows.features.horses[r] == race.result.winner());
    }
    EXPECT_EQ(wins, 1.0f);
  }
  const TrainingRows form = training_rows(race.ticks, race.result, FeatureSet::kFormOnly, 1000000);
  EXPECT_EQ(form.features.cols, feature_names(FeatureSet::kFormOnly).size());
  EXPECT_EQ(form.group_begin.size(), 3u) << "first and last tick";

  RaceResult incomplete = race.result;
  incomplete.finish_order.pop_back();
  EXPECT_THROW(training_rows(race.ticks, incomplete), InputError);
  EXPECT_THROW(training_rows(race.ticks, race.result, FeatureSet::kLive, 0), ConfigError);
}

}  // namespace
}  // namespace streamml::demo
