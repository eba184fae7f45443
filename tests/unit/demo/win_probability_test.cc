// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/win_probability.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "horse_race/race_predictors.h"
#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

double sum(const std::vector<double>& p) { return std::accumulate(p.begin(), p.end(), 0.0); }

TEST(WinProbability, SoftmaxSumsToOneAndKeepsOrder) {
  const std::vector<float> logits = {0.0f, 1.0f, -2.0f, 3.0f};
  const std::vector<double> p = softmax_within_race(logits);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NEAR(sum(p), 1.0, 1e-12);
  EXPECT_NEAR(p[1] / p[0], std::exp(1.0), 1e-9);
  EXPECT_EQ(rank_by_probability(p), (std::vector<size_t>{3, 1, 0, 2}));
  EXPECT_TRUE(softmax_within_race(std::vector<float>{}).empty());
}

TEST(WinProbability, SoftmaxIsStableForLargeLogits) {
  const std::vector<double> p = softmax_within_race(std::vector<double>{1000.0, 1000.0, -1000.0});
  EXPECT_NEAR(p[0], 0.5, 1e-12);
  EXPECT_NEAR(p[1], 0.5, 1e-12);
  EXPECT_EQ(p[2], 0.0);
}

TEST(WinProbability, NonFiniteLogitIsAnErrorNamingTheRow) {
  try {
    softmax_within_race(std::vector<float>{0.0f, std::numeric_limits<float>::quiet_NaN()});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
  }
}

TEST(WinProbability, TiesGoToTheBetterPosition) {
  const std::vector<double> p = {0.2, 0.4, 0.2, 0.2};
  const std::vector<int32_t> positions = {3, 4, 1, 2};
  EXPECT_EQ(rank_by_probability(p, positions), (std::vector<size_t>{1, 2, 3, 0}));
}

Tick field_of(std::vector<std::pair<int32_t, bool>> standings) {
  Tick field;
  for (size_t i = 0; i < standings.size(); ++i) {
    Telemetry t;
    t.race_id = 1;
    t.horse = static_cast<int32_t>(i) + 1;
    t.contestants = static_cast<int32_t>(standings.size());
    t.position = standings[i].first;
    t.finished = standings[i].second;
    field.push_back(t);
  }
  return field;
}

TEST(WinProbability, SettleFinishedLeavesARunningFieldToTheModel) {
  const Tick field = field_of({{2, false}, {1, false}, {3, false}});
  const std::vector<double> p = {0.5, 0.3, 0.2};
  EXPECT_EQ(settle_finished(field, p), p);
}

TEST(WinProbability, SettleFinishedGivesTheWinnerCertainty) {
  // Horse 3 won, horse 1 was second; the model still likes horse 2 best.
  const Tick field = field_of({{2, true}, {3, false}, {1, true}, {4, false}});
  const std::vector<double> p = settle_finished(field, std::vector<double>{0.2, 0.5, 0.25, 0.05});
  EXPECT_EQ(p, (std::vector<double>{0.0, 0.0, 1.0, 0.0}));
  // The board then shows the result so far, then the runners by current position.
  EXPECT_EQ(rank_by_probability(p, standings_of(field)), (std::vector<size_t>{2, 0, 1, 3}));
}

TEST(WinProbability, SettleFinishedRulesOutARunnerThatFinishedBehindAnother) {
  // Within one tick horse 2's record (finished second) came before the winner's: horse 2 cannot win, the
  // runners still out share its probability in proportion.
  const Tick field = field_of({{1, false}, {2, true}, {3, false}});
  const std::vector<double> p = settle_finished(field, std::vector<double>{0.2, 0.6, 0.2});
  EXPECT_DOUBLE_EQ(p[0], 0.5);
  EXPECT_DOUBLE_EQ(p[1], 0.0);
  EXPECT_DOUBLE_EQ(p[2], 0.5);
  // A model that gave the runners still out nothing: they share equally.
  const std::vector<double> q = settle_finished(field, std::vector<double>{0.0, 1.0, 0.0});
  EXPECT_EQ(q, (std::vector<double>{0.5, 0.0, 0.5}));
}

TEST(WinProbability, FinishedRunnersRankInFinishingOrderAheadOfTies) {
  // All three have no chance left (the winner is elsewhere): finished first, by finishing position, then the
  // runner still out, even when its stale position ties with a finisher's.
  const std::vector<double> p = {0.0, 0.0, 0.0, 1.0};
  const std::vector<RunnerStanding> standings = {{3, false}, {3, true}, {2, true}, {1, true}};
  EXPECT_EQ(rank_by_probability(p, standings), (std::vector<size_t>{3, 2, 1, 0}));
}

Tick small_field() {
  Tick field(3);
  for (int i = 0; i < 3; ++i) {
    field[i].race_id = 1;
    field[i].horse = i + 1;
    field[i].contestants = 3;
    field[i].distance_m = 100.0 * (i + 1);
    field[i].remaining_m = 1000.0 - field[i].distance_m;
    field[i].position = 3 - i;
    field[i].speed_mps = 15;
  }
  field[0].form.win_rate = 0.6f;
  field[0].form.last_finishes = {1, 1, 2, 1, 3};
  return field;
}

TEST(Predictors, BaselinesReturnDistributions) {
  const Tick field = small_field();
  const FeatureMatrix f = features_for_tick(field);
  const std::vector<double> leader = leader_predictor()(field, f);
  EXPECT_EQ(leader, (std::vector<double>{0.0, 0.0, 1.0}));
  const std::vector<double> uniform = uniform_predictor()(field, f);
  EXPECT_NEAR(sum(uniform), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(uniform[0], 1.0 / 3.0);
  const std::vector<double> form = form_heuristic_predictor()(field, f);
  EXPECT_NEAR(sum(form), 1.0, 1e-12);
  EXPECT_EQ(rank_by_probability(form).front(), 0u) << "the horse with the best form is the pre-race favourite";
}

TEST(Predictors, ScorerPredictorSelectsTheFormSubsetAndNormalises) {
  const Tick field = small_field();
  const FeatureMatrix f = features_for_tick(field);
  size_t seen_cols = 0;
  const WinPredictor p = scorer_predictor(
      [&](const FeatureMatrix& m) {
        seen_cols = m.cols;
        return std::vector<float>{0.0f, 0.0f, std::log(2.0f)};
      },
      FeatureSet::kFormOnly);
  const std::vector<double> probs = p(field, f);
  EXPECT_EQ(seen_cols, feature_names(FeatureSet::kFormOnly).size());
  EXPECT_NEAR(probs[2], 0.5, 1e-6);
  EXPECT_NEAR(sum(probs), 1.0, 1e-12);

  const WinPredictor wrong = scorer_predictor([](const FeatureMatrix&) { return std::vector<float>{1.0f}; });
  EXPECT_THROW(wrong(field, f), InputError);
}

TEST(Predictors, TraceRaceRecordsEveryTickInHorseOrder) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 21});
  const Race race = sim.next();
  const RaceTrace trace = trace_race(race.ticks, race.result, leader_predictor());
  EXPECT_EQ(trace.race_id, race.race_id);
  EXPECT_EQ(trace.winner, race.result.winner());
  ASSERT_EQ(trace.ticks.size(), race.ticks.size());
  EXPECT_EQ(trace.horses.size(), race.horses.size());
  for (size_t k = 0; k < race.ticks.size(); ++k) {
    const TickPrediction& tick = trace.ticks[k];
    EXPECT_NEAR(sum(tick.probabilities), 1.0, 1e-12);
    EXPECT_GT(tick.latency_us, 0.0);
    // The leader baseline's favourite is the horse in position 1.
    for (const Telemetry& t : race.ticks[k]) {
      if (t.position == 1) {
        EXPECT_EQ(trace.ranking(k).front(), t.horse);
      }
    }
  }
  EXPECT_DOUBLE_EQ(trace.ticks.back().leader_progress, 1.0);
  const RaceTrace strided = trace_race(race.ticks, race.result, uniform_predictor(), /*tick_stride=*/50);
  EXPECT_EQ(strided.ticks.size(), (race.ticks.size() - 1) / 50 + 1 + ((race.ticks.size() - 1) % 50 != 0 ? 1 : 0));
}

}  // namespace
}  // namespace streamml::demo
