// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The horse-race demo end to end on a real Kafka protocol peer (embedded
// cluster or STREAMML_TEST_BOOTSTRAP), scaled down: 30 history races, 3 live
// races at high speed. Every tick of every live race must get a ranking whose
// probabilities sum to 1, the models must be trained from the history topic
// and the report and chart must be written; an observer (what the web page
// sees) must see every ranking and every race's end.
#include "horse_race/race_demo.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "horse_race/race_board.h"
#include "horse_race/race_models.h"
#include "streamml/common/error.h"
#include "streamml/model/model.h"
#include "support/test_kafka.h"

namespace streamml::demo {
namespace {

using testing::TestKafka;

// What a LeaderboardObserver was told.
struct RecordingObserver final : LeaderboardObserver {
  size_t rankings = 0;
  std::map<int64_t, int32_t> winners;  // race -> winner, from on_race_over
  size_t traced = 0;
  size_t progress_calls = 0;
  DemoProgress last_progress;
  void on_ranking(const LeaderboardView& view) override { ++rankings; }
  void on_race_over(const LeaderboardView& final_view, const RaceTrace* trace) override {
    winners[final_view.race_id] = final_view.winner;
    if (trace != nullptr) ++traced;
  }
  void on_progress(const DemoProgress& progress) override {
    ++progress_calls;
    last_progress = progress;
  }
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DemoRaceEndToEndTest, EveryTickGetsARankingSummingToOne) {
  const auto out_dir = std::filesystem::temp_directory_path() / TestKafka::get().unique_name("demo-out");
  DemoOptions options;
  options.brokers = TestKafka::get().bootstrap();
  options.seed = 11;
  options.history_races = 30;
  options.live_races = 3;
  options.live.speed = 200.0;
  options.live.concurrent_races = 3;
  options.model.epochs = 2;
  options.topic_prefix = TestKafka::get().unique_name("race");
  options.out_dir = out_dir.string();
  options.mode = LeaderboardPrinter::Mode::kLines;
  std::FILE* board = std::tmpfile();
  ASSERT_NE(board, nullptr);
  options.out = board;
  RecordingObserver observer;
  options.observer = &observer;
  std::atomic<bool> stop{false};

  const DemoSummary summary = run_demo(options, stop);

  // Every record of every live race got exactly one ranking, and every ranking sums to 1.
  ASSERT_EQ(summary.live_races.size(), 3u);
  size_t records = 0;
  for (const Race& race : summary.live_races) {
    records += race.num_records();
    const auto it = summary.rankings_per_race.find(race.race_id);
    ASSERT_NE(it, summary.rankings_per_race.end()) << "race " << race.race_id << " got no ranking";
    EXPECT_EQ(it->second, race.num_records()) << "race " << race.race_id;
  }
  EXPECT_EQ(summary.live_records, records);
  EXPECT_EQ(summary.rankings, records);
  EXPECT_EQ(summary.rejected, 0u);
  EXPECT_EQ(summary.probability_sum_violations, 0u);

  // The streaming model's traces have one entry per tick of each race.
  const PredictorReport& model = summary.report.predictors.at(0);
  EXPECT_EQ(model.races, 3u);
  EXPECT_EQ(summary.report.latency.count, records);
  EXPECT_GT(summary.report.latency.p50_us, 0.0);
  EXPECT_LE(summary.report.latency.p50_us, summary.report.latency.p99_us);

  // Outputs: models trained from the history topic, report, board lines.
  const model::Model live = model::Model::load((out_dir / "live_model.smlm").string());
  EXPECT_EQ(race_model_feature_set(live), FeatureSet::kLive);
  EXPECT_EQ(live.metadata().at("race.races"), "30");
  EXPECT_FALSE(live.offsets().empty());  // remembers how far it read the history topic
  const model::Model form = model::Model::load((out_dir / "form_model.smlm").string());
  EXPECT_EQ(race_model_feature_set(form), FeatureSet::kFormOnly);
  const std::string report = read_file(out_dir / "report.md");
  EXPECT_NE(report.find("streaming model"), std::string::npos);
  EXPECT_NE(report.find("current leader wins"), std::string::npos);
  EXPECT_NE(report.find("pre-race model"), std::string::npos);
  EXPECT_NE(report.find("Update latency"), std::string::npos);
  if (summary.report.chart_race) {
    EXPECT_NE(read_file(out_dir / "late_surge.svg").find("<svg"), std::string::npos);
  }
  // The observer saw every ranking: the running races' and each race's last one, with the official winner.
  EXPECT_EQ(observer.rankings + observer.winners.size(), summary.rankings);
  ASSERT_EQ(observer.winners.size(), 3u);
  for (const Race& race : summary.live_races) EXPECT_EQ(observer.winners[race.race_id], race.result.winner());
  EXPECT_EQ(observer.traced, 3u);
  EXPECT_GE(observer.progress_calls, 4u);  // after each race, and the whole run's figures last
  EXPECT_EQ(observer.last_progress.races_finished, 3u);
  EXPECT_EQ(observer.last_progress.races_total, 3u);
  EXPECT_EQ(observer.last_progress.rankings, summary.rankings);
  EXPECT_GT(observer.last_progress.p50_us, 0.0);

  std::fflush(board);
  EXPECT_GT(std::ftell(board), 0);  // the leaderboard printed lines
  std::fclose(board);
  std::filesystem::remove_all(out_dir);
}

TEST(DemoRaceEndToEndTest, ExistingTopicIsAConfigError) {
  const std::string prefix = TestKafka::get().unique_name("race");
  kafka::Config config = TestKafka::get().config();
  create_race_topic(config, prefix + "-history", 2);
  DemoOptions options;
  options.brokers = TestKafka::get().bootstrap();
  options.history_races = 2;
  options.live_races = 1;
  options.topic_prefix = prefix;
  options.out_dir = (std::filesystem::temp_directory_path() / TestKafka::get().unique_name("demo-out")).string();
  std::atomic<bool> stop{false};
  EXPECT_THROW(run_demo(options, stop), ConfigError);
  std::filesystem::remove_all(options.out_dir);
}

}  // namespace
}  // namespace streamml::demo
