// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// `streamml generate` and `train --online` with prequential evaluation and
// drift detection, end to end: a SEA stream with a known drift written to a
// topic, learned online; the drift event on --drift-topic, in the metrics
// log and topic, the chart, and a restart that keeps the detector's state.
// The CLI runs as a child process against the embedded cluster or
// STREAMML_TEST_BOOTSTRAP.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "streamml/model/model.h"
#include "streamml/train/online_trainer.h"
#include "support/cli_json.h"
#include "support/temp_dir.h"
#include "support/test_kafka.h"

namespace streamml::train {
namespace {

using testing::json_value;
using testing::run_cli;

using testing::TempDir;
using testing::TestKafka;

constexpr int64_t kRecords = 12000;
constexpr int64_t kDriftAt = 6000;
constexpr const char* kTrainArgs =
    " --decode csv:columns=4,label=3 --task binary --model mlp:16 --lr 0.01 --stream-timeout 1500";

std::string broker() { return "-b " + TestKafka::get().bootstrap(); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A SEA stream drifting from theta 7 to theta 9.5 at kDriftAt, in a new
// one-partition topic.
std::string sea_topic(const std::string& name) {
  const std::string topic = TestKafka::get().create_topic(name, 1);
  testing::CommandResult r = run_cli(fmt::format("generate sea {} -t {} --records {} --drift-at {} --concepts 2,3 --seed 3",
                                             broker(), topic, kRecords, kDriftAt));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(fmt::format("delivered {} of {}", kRecords, kRecords)), std::string::npos) << r.err;
  return topic;
}

TEST(TrainDrift, GeneratedSeaStreamIsCsvWithTheLabelLast) {
  const std::string topic = sea_topic("drift-gen");
  EXPECT_EQ(testing::watermarks(topic, 0).high, kRecords);
  for (const testing::ReadRecord& record : testing::read_range(topic, 0, kDriftAt - 2, kDriftAt + 2)) {
    std::vector<double> fields;
    std::istringstream in(record.value);
    for (std::string f; std::getline(in, f, ',');) fields.push_back(std::stod(f));
    ASSERT_EQ(fields.size(), 4u) << record.value;
    const double theta = record.offset < kDriftAt ? 7.0 : 9.5;
    EXPECT_EQ(fields[3], fields[0] + fields[1] <= theta ? 1.0 : 0.0) << record.value << " at " << record.offset;
  }
}

TEST(TrainDrift, OnlineTrainingDetectsTheDriftAndWritesItsEventEverywhere) {
  TempDir dir;
  const std::string topic = sea_topic("drift-sea");
  const std::string drift_topic = TestKafka::get().create_topic("drift-events", 1);
  const std::string metrics_topic = TestKafka::get().create_topic("drift-metrics", 1);
  const std::string group = TestKafka::get().unique_name("drift-g");
  testing::CommandResult r = run_cli("train " + broker() + " --online -G " + group + " --topic " + topic + kTrainArgs +
                                 " --save " + dir / "sea.smlm" + " --drift-topic " + drift_topic + " --metrics-topic " +
                                 metrics_topic + " --metrics-log " + dir / "log.jsonl" + " --plot " + dir / "sea.svg" +
                                 fmt::format(" --true-drift {}", kDriftAt) + " --run-id drift-run --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The summary: prequential metrics and the drift count.
  EXPECT_GE(json_value(r.out, "drifts"), 1) << r.out;
  EXPECT_GT(json_value(r.out, "preq_accuracy"), 0.9) << r.out;
  EXPECT_GT(json_value(r.out, "preq_auc"), 0.9) << r.out;
  EXPECT_EQ(json_value(r.out, "preq_records") + 64, kRecords) << "all but the first batch: " << r.out;
  EXPECT_NE(r.err.find("drift 1 detected by adwin at " + topic + ":0:"), std::string::npos) << r.err;

  // The drift topic: one event per drift, keyed by the run, with the
  // offset of the record at which it was detected.
  std::vector<testing::ReadRecord> events = testing::read_all(drift_topic);
  ASSERT_EQ(static_cast<double>(events.size()), json_value(r.out, "drifts"));
  const std::string& first = events.front().value;
  EXPECT_EQ(events.front().key.value_or("<null>"), "drift-run");
  EXPECT_NE(first.find("\"event\":\"drift\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"topic\":\"" + topic + "\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"detector\":\"adwin\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"time\":\""), std::string::npos) << first;
  EXPECT_GT(json_value(first, "statistic"), 0) << first;
  const double offset = json_value(first, "offset");
  EXPECT_GE(offset, kDriftAt) << first;
  EXPECT_LT(offset, kDriftAt + 1000) << first;
  std::printf("[ figures  ] SEA 7 -> 9.5 at %lld through Kafka: first drift at offset %.0f (delay %.0f records)\n",
              static_cast<long long>(kDriftAt), offset, offset - kDriftAt);

  // The metrics log and topic carry it too, and the prequential metrics.
  const std::string log = read_file(dir / "log.jsonl");
  EXPECT_NE(log.find(fmt::format("\"event\":\"drift\",\"run_id\":\"drift-run\"")), std::string::npos) << log;
  EXPECT_NE(log.find(fmt::format("\"offset\":{}", offset)), std::string::npos) << log;
  EXPECT_NE(log.find("\"preq_faded_accuracy\":"), std::string::npos);
  int drift_records = 0;
  for (const testing::ReadRecord& record : testing::read_all(metrics_topic)) {
    drift_records += record.value.find("\"event\":\"drift\"") != std::string::npos;
  }
  EXPECT_EQ(drift_records, static_cast<int>(events.size()));

  // The chart marks the drifts and the true drift.
  const std::string svg = read_file(dir / "sea.svg");
  EXPECT_NE(svg.find("Prequential accuracy"), std::string::npos);
  EXPECT_NE(svg.find("true drift"), std::string::npos);
  EXPECT_NE(svg.find("drift detected"), std::string::npos);
  EXPECT_NE(svg.find("class=\"marker\""), std::string::npos);
}

TEST(TrainDrift, ARestartKeepsTheDetectorsStateSoItNeitherRealarmsNorForgets) {
  TempDir dir;
  const std::string topic = sea_topic("drift-restart");
  const std::string drift_topic = TestKafka::get().create_topic("drift-restart-events", 1);
  const std::string group = TestKafka::get().unique_name("drift-restart-g");
  const std::string args = "train " + broker() + " --online -G " + group + " --topic " + topic + kTrainArgs +
                           " --save " + dir / "sea.smlm" + " --drift-topic " + drift_topic + " -q --json" +
                           " --on-drift reset-optimizer --checkpoint-every 10";
  // Up to 1600 records past the drift, then the rest in a second run.
  testing::CommandResult first = run_cli(args + " --max-batches 120");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const double first_drifts = json_value(first.out, "drifts");
  ASSERT_GE(first_drifts, 1) << first.out;
  const std::string saved_state = model::Model::load(dir / "sea.smlm").metadata().at(kDriftStateKey);
  EXPECT_NE(saved_state.find(fmt::format("detections={} ", first_drifts)), std::string::npos) << saved_state;

  testing::CommandResult second = run_cli(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find(fmt::format("{} drifts so far", first_drifts)), std::string::npos)
      << "the detector is restored: " << second.err;
  // The evaluation goes on over both runs.
  EXPECT_EQ(json_value(second.out, "preq_records") + 64, kRecords) << second.out;
  EXPECT_EQ(json_value(second.out, "records"), kRecords - 120 * 64) << second.out;
  // The drifts of the second run are numbered on, and none is an alarm of
  // the first run raised again.
  std::vector<testing::ReadRecord> events = testing::read_all(drift_topic);
  ASSERT_EQ(static_cast<double>(events.size()), first_drifts + json_value(second.out, "drifts"));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(json_value(events[i].value, "drifts"), static_cast<double>(i + 1)) << events[i].value;
    if (i > 0) {
      EXPECT_GT(json_value(events[i].value, "offset"), json_value(events[i - 1].value, "offset"));
    }
  }
  const std::string final_state = model::Model::load(dir / "sea.smlm").metadata().at(kDriftStateKey);
  EXPECT_NE(final_state.find(fmt::format("detections={} ", events.size())), std::string::npos) << final_state;
}

TEST(TrainDrift, NoEvaluationTrainsWithoutPrequentialMetricsOrDetector) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("drift-noeval", 1);
  ASSERT_EQ(run_cli(fmt::format("generate sea {} -t {} --records 640", broker(), topic)).exit_code, 0);
  testing::CommandResult r =
      run_cli("train " + broker() + " --online -G " + TestKafka::get().unique_name("noeval-g") + " --topic " + topic +
          kTrainArgs + " --no-evaluation -q --json --save " + dir / "m.smlm");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_value(r.out, "records"), 640) << r.out;
  EXPECT_EQ(r.out.find("preq_"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("drifts"), std::string::npos) << r.out;
  EXPECT_EQ(model::Model::load(dir / "m.smlm").metadata().count(kDriftStateKey), 0u);
}

TEST(TrainDrift, InvalidDriftOptionsAreUsageErrorsNamingTheValue) {
  const std::string topic = TestKafka::get().create_topic("drift-usage", 1);
  const std::string base = "train " + broker() + " --online -G g --topic " + topic + kTrainArgs + " --save x.smlm";
  testing::CommandResult r = testing::run_command_capture(testing::cli_path() + " " + base + " --on-drift panic");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'panic'"), std::string::npos) << r.err;
  r = testing::run_command_capture(testing::cli_path() + " " + base + " --drift-detector kswin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'kswin'"), std::string::npos) << r.err;
  r = testing::run_command_capture(testing::cli_path() + " " + base + " --drift-detector none --drift-topic d");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--drift-topic needs a --drift-detector"), std::string::npos) << r.err;
  r = testing::run_command_capture(testing::cli_path() + " " + base + " --no-evaluation --drift-detector adwin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-evaluation"), std::string::npos) << r.err;
  r = testing::run_command_capture(testing::cli_path() + " " + base + " --window 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("window 0"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace streamml::train
