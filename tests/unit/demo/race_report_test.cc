// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_report.h"

#include <gtest/gtest.h>

#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

// A hand-made 3-horse race with ticks at leader progress 0, 0.3, 0.6, 0.8, 1.0.
RaceTrace make_trace(int32_t winner, const std::vector<std::vector<double>>& probs) {
  RaceTrace t;
  t.race_id = winner;
  t.race_distance_m = 1000;
  t.winner = winner;
  t.horses = {1, 2, 3};
  const std::vector<double> progress = {0.0, 0.3, 0.6, 0.8, 1.0};
  for (size_t k = 0; k < probs.size(); ++k) {
    TickPrediction tick;
    tick.time_s = 10.0 * static_cast<double>(k);
    tick.leader_progress = progress[k];
    tick.probabilities = probs[k];
    tick.positions = {1, 2, 3};
    tick.latency_us = 10.0 * static_cast<double>(k + 1);
    t.ticks.push_back(tick);
  }
  return t;
}

TEST(RaceReport, TickAtProgressPicksTheFirstTickReachingTheFraction) {
  const RaceTrace t = make_trace(1, {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}});
  EXPECT_EQ(t.tick_at_progress(0.0), 0u);
  EXPECT_EQ(t.tick_at_progress(0.25), 1u);
  EXPECT_EQ(t.tick_at_progress(0.3), 1u);
  EXPECT_EQ(t.tick_at_progress(0.5), 2u);
  EXPECT_EQ(t.tick_at_progress(0.75), 3u);
  EXPECT_EQ(t.tick_at_progress(0.9), 4u);
  const RaceTrace short_trace = make_trace(1, {{1, 0, 0}, {1, 0, 0}});
  EXPECT_EQ(short_trace.tick_at_progress(0.5), 2u) << "never reached";
}

TEST(RaceReport, AccuracyTop3AndWinnerProbabilityOnAHandMadeExample) {
  // Race A (winner 2): favourite 1 until 50 %, then 2.
  // Race B (winner 3): favourite 3 throughout.
  // Race C (winner 1): 4-horse... kept at 3 horses: favourite 2 throughout, winner ranked 3rd.
  std::vector<RaceTrace> traces = {
      make_trace(2, {{0.5, 0.3, 0.2}, {0.5, 0.3, 0.2}, {0.3, 0.6, 0.1}, {0.2, 0.7, 0.1}, {0.0, 1.0, 0.0}}),
      make_trace(3, {{0.2, 0.2, 0.6}, {0.2, 0.2, 0.6}, {0.1, 0.1, 0.8}, {0.1, 0.1, 0.8}, {0.0, 0.0, 1.0}}),
      make_trace(1, {{0.1, 0.6, 0.3}, {0.1, 0.6, 0.3}, {0.1, 0.6, 0.3}, {0.1, 0.6, 0.3}, {0.1, 0.6, 0.3}}),
  };
  const PredictorReport r = evaluate_predictor("hand", traces);
  EXPECT_EQ(r.races, 3u);
  ASSERT_EQ(r.progress_points, default_progress_points());
  EXPECT_EQ(r.counted, (std::vector<size_t>{3, 3, 3, 3, 3}));
  EXPECT_NEAR(r.winner_accuracy[0], 1.0 / 3.0, 1e-12);  // B only
  EXPECT_NEAR(r.winner_accuracy[1], 1.0 / 3.0, 1e-12);  // B only (25 % -> tick 1)
  EXPECT_NEAR(r.winner_accuracy[2], 2.0 / 3.0, 1e-12);  // A and B (50 % -> tick 2)
  EXPECT_NEAR(r.winner_accuracy[4], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.top3_rate[0], 1.0, 1e-12) << "with 3 horses the winner is always in the top 3";
  EXPECT_NEAR(r.winner_probability[0], (0.3 + 0.6 + 0.1) / 3.0, 1e-12);
  EXPECT_NEAR(r.winner_probability[2], (0.6 + 0.8 + 0.1) / 3.0, 1e-12);
  EXPECT_EQ(r.latencies_us.size(), 15u);
}

TEST(RaceReport, Top3CountsOnlyTheFirstThree) {
  RaceTrace t;
  t.winner = 4;
  t.horses = {1, 2, 3, 4};
  TickPrediction tick;
  tick.probabilities = {0.4, 0.3, 0.2, 0.1};
  tick.positions = {1, 2, 3, 4};
  tick.leader_progress = 0.0;
  t.ticks.push_back(tick);
  tick.probabilities = {0.1, 0.3, 0.2, 0.4};
  tick.leader_progress = 0.3;
  t.ticks.push_back(tick);
  const std::vector<RaceTrace> traces = {t};
  const std::vector<double> points = {0.0, 0.25, 0.5};
  const PredictorReport r = evaluate_predictor("x", traces, points);
  EXPECT_EQ(r.top3_rate[0], 0.0);
  EXPECT_EQ(r.top3_rate[1], 1.0);
  EXPECT_EQ(r.winner_accuracy[1], 1.0);
  EXPECT_EQ(r.counted[2], 0u) << "50 % was never reached";
  const std::vector<double> bad = {1.5};
  EXPECT_THROW(evaluate_predictor("x", traces, bad), ConfigError);
}

TEST(RaceReport, RendersMarkdownAndTextTables) {
  const std::vector<RaceTrace> traces = {
      make_trace(1, {{0.5, 0.3, 0.2}, {0.5, 0.3, 0.2}, {0.5, 0.3, 0.2}, {0.5, 0.3, 0.2}, {1, 0, 0}})};
  const std::vector<PredictorReport> reports = {evaluate_predictor("model", traces),
                                                evaluate_predictor("leader", traces)};
  const std::string md = render_report(reports, ReportFormat::kMarkdown);
  EXPECT_NE(md.find("| predictor | races | 0% | 25% | 50% | 75% | 90% |"), std::string::npos) << md;
  EXPECT_NE(md.find("|---|---:|---:|---:|---:|---:|---:|"), std::string::npos);
  EXPECT_NE(md.find("| model | 1 | 100.0% | 100.0% | 100.0% | 100.0% | 100.0% |"), std::string::npos) << md;
  EXPECT_NE(md.find("Scoring latency"), std::string::npos);
  const std::string text = render_report(reports, ReportFormat::kText);
  EXPECT_EQ(text.find('|'), std::string::npos);
  EXPECT_NE(text.find("leader         1  100.0%  100.0%"), std::string::npos) << text;

  std::vector<PredictorReport> mismatched = reports;
  mismatched[1].progress_points = {0.5};
  EXPECT_THROW(render_report(mismatched), ConfigError);
}

TEST(RaceReport, LatencyPercentilesUseNearestRank) {
  std::vector<double> us;
  for (int i = 100; i >= 1; --i) us.push_back(i);
  EXPECT_EQ(latency_percentile(us, 50), 50.0);
  EXPECT_EQ(latency_percentile(us, 99), 99.0);
  EXPECT_EQ(latency_percentile(us, 100), 100.0);
  EXPECT_EQ(latency_percentile(us, 0), 1.0);
  const LatencySummary s = summarize_latency(us);
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.p50_us, 50.0);
  EXPECT_EQ(s.p99_us, 99.0);
  EXPECT_EQ(s.max_us, 100.0);
  EXPECT_DOUBLE_EQ(s.mean_us, 50.5);
  EXPECT_EQ(summarize_latency({}).count, 0u);
  const std::vector<double> one = {7.0};
  EXPECT_EQ(latency_percentile(one, 99), 7.0);
}

}  // namespace
}  // namespace streamml::demo
