// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// What `streamml train` and `evaluate` write and say: output paths checked
// before training, the model written before optional outputs, the metrics
// log and topic, early stopping's saved epoch, empty evaluations, online
// training's checkpoint rule, diverged runs. The CLI runs as a child process
// against the embedded cluster or STREAMML_TEST_BOOTSTRAP.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <regex>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "streamml/kafka/consumer.h"
#include "streamml/model/model.h"
#include "support/cli_json.h"
#include "support/temp_dir.h"
#include "support/test_kafka.h"

namespace streamml::train {
namespace {

using testing::json_value;
using testing::flipped_rows;
using testing::learnable_rows;
using testing::write_lines;
using testing::run_cli;

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestKafka;

constexpr const char* kDecode = "csv:names=a+b+y,label=y";

std::string broker() { return "-b " + TestKafka::get().bootstrap(); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(TrainCliOutputs, OnlineTrainingWithoutSaveIsAUsageErrorAndCommitsNothing) {
  const std::string topic = TestKafka::get().create_topic("online-nosave", 1);
  const std::string group = TestKafka::get().unique_name("online-nosave-g");
  testing::produce_to(topic, 0, learnable_rows(50));
  testing::CommandResult r = run_cli("train " + broker() + " --online -G " + group + " --topic " + topic +
                                 " --decode " + kDecode + " --task binary --stream-timeout 1000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--save"), std::string::npos) << r.err;
  kafka::Config config = TestKafka::get().config();
  config.set("group.id", group);
  kafka::Consumer consumer(config);
  for (const auto& c : consumer.committed({{topic, 0}})) EXPECT_LT(c.offset, 0) << "committed " << c.offset;
}

TEST(TrainCliOutputs, ADivergedRunFailsNamingTheEpochAndSavesNoModel) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(500));
  const std::string model = dir / "model.smlm";
  testing::CommandResult r = run_cli("train --file " + data + " --decode " + kDecode +
                                 " --task binary --model mlp:16 --lr 1e30 --epochs 3 -q --save " + model);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("diverged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("epoch 1"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(model)) << "a diverged model was saved";
}

TEST(TrainCliOutputs, UnwritableOutputPathsFailBeforeTrainingNamingTheFlag) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(200));
  const std::string base = "train --file " + data + " --decode " + kDecode + " --task binary --model mlp:4 -q ";
  const std::string missing = dir / "no-such-dir";
  for (const std::string flag : {"--save", "--plot", "--metrics-log"}) {
    SCOPED_TRACE(flag);
    const std::string model = dir / "model.smlm";
    const std::string target = missing + "/out";
    std::string args = base + flag + " " + target;
    if (flag != "--save") args += " --save " + model;
    testing::CommandResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(flag + " '" + target + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("epoch"), std::string::npos) << "it trained first:\n" << r.err;
  }
  // A directory given as the output file.
  testing::CommandResult r = run_cli(base + "--plot " + dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

TEST(TrainCliOutputs, APlotThatFailsDuringTrainingStillLeavesTheSavedModel) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(1000));
  const std::string plots = dir / "plots";
  std::filesystem::create_directory(plots);
  const std::string plot = plots + "/curves.svg";
  const std::string model = dir / "model.smlm";
  // Long enough that the plot's directory goes away while it trains.
  auto run = std::async(std::launch::async, [&] {
    return run_cli("train --file " + data + " --decode " + kDecode + " --task binary --model mlp:4 --batch-size 16 " +
               "--epochs 200 -q --plot " + plot + " --save " + model);
  });
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!std::filesystem::exists(plot) && std::chrono::steady_clock::now() < deadline &&
         run.wait_for(20ms) != std::future_status::ready) {
  }
  ASSERT_TRUE(std::filesystem::exists(plot)) << "no plot after the first epoch";
  // The trainer may write the next plot (a temporary file, then a rename) while
  // the directory is being emptied: remove_all then finds it not empty. Try
  // again until the directory is gone.
  for (int attempt = 0; std::filesystem::exists(plots); ++attempt) {
    std::error_code error;
    std::filesystem::remove_all(plots, error);
    ASSERT_LT(attempt, 1000) << "cannot remove " << plots << ": " << error.message();
  }
  testing::CommandResult r = run.get();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--plot"), std::string::npos) << r.err;
  ASSERT_TRUE(std::filesystem::exists(model)) << "the trained model was lost to the plot:\n" << r.err;
  EXPECT_NO_THROW(model::Model::load(model));
}

// The top-level keys of a one-level JSON object line, in order.
std::vector<std::string> json_keys(const std::string& line) {
  std::vector<std::string> keys;
  static const std::regex key(R"re([{,]"([^"]+)":)re");
  for (auto it = std::sregex_iterator(line.begin(), line.end(), key); it != std::sregex_iterator(); ++it) {
    keys.push_back((*it)[1]);
  }
  return keys;
}

std::string json_event(const std::string& line) {
  std::smatch m;
  static const std::regex event(R"re("event":"([a-z_]+)")re");
  return std::regex_search(line, m, event) ? std::string(m[1]) : "<none>";
}

TEST(TrainCliOutputs, MetricsLogAndTopicCarryTheSameEventsWithoutDuplicateKeysKeyedByRun) {
  TempDir dir;
  const std::string train_topic = TestKafka::get().create_topic("events-train", 1);
  const std::string metrics_topic = TestKafka::get().create_topic("events-metrics", 4);
  testing::produce_to(train_topic, 0, learnable_rows(300));
  const std::string log = dir / "log.jsonl";
  testing::CommandResult r =
      run_cli("train " + broker() + " --topic " + train_topic + " --decode " + kDecode +
          " --task binary --model mlp:4 --epochs 3 -q --metrics-log " + log + " --metrics-topic " + metrics_topic +
          " --run-id run-17 --save " + dir / "model.smlm");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::vector<std::string> lines;
  std::istringstream in(read_file(log));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u) << read_file(log);
  std::vector<std::string> file_events;
  for (const std::string& line : lines) {
    file_events.push_back(json_event(line));
    std::vector<std::string> keys = json_keys(line);
    std::set<std::string> unique(keys.begin(), keys.end());
    EXPECT_EQ(unique.size(), keys.size()) << "a key appears twice: " << line;
  }
  EXPECT_EQ(file_events, (std::vector<std::string>{"train_begin", "epoch", "epoch", "epoch", "train_end"}));
  EXPECT_NE(lines[0].find("\"run_id\":\"run-17\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"records\":300,"), std::string::npos) << lines[1];
  EXPECT_NE(lines[3].find("\"records\":900,"), std::string::npos) << "records count the whole run: " << lines[3];
  EXPECT_NE(lines[3].find("\"epoch_records\":300"), std::string::npos) << lines[3];
  EXPECT_NE(lines[4].find("\"epochs_run\":3"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("\"stop_reason\":"), std::string::npos) << lines[4];

  // The topic: the same events, all in one partition (keyed by the run id), in order.
  std::vector<testing::ReadRecord> records = testing::read_all(metrics_topic);
  ASSERT_EQ(records.size(), 5u);
  std::vector<std::string> topic_events;
  for (const testing::ReadRecord& record : records) {
    EXPECT_EQ(record.key.value_or("<null>"), "run-17");
    EXPECT_EQ(record.partition, records[0].partition);
    topic_events.push_back(json_event(record.value));
    std::vector<std::string> keys = json_keys(record.value);
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << record.value;
  }
  EXPECT_EQ(topic_events, file_events);
  EXPECT_NE(records[4].value.find("\"epochs_run\":3"), std::string::npos) << records[4].value;
}

TEST(TrainCliOutputs, RestoreBestSavesTheBestEpochAndTheSummarySaysWhich) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(600, 1));
  // Validation labels are the opposite of the training ones: the better the
  // model learns, the worse val_loss gets, so the first epoch is the best.
  const std::string validation = write_lines(dir, "flipped.csv", flipped_rows(300, 2));
  const std::string model = dir / "model.smlm";
  const std::string args = "train --file " + data + " --decode " + kDecode + " --task binary --model mlp:8 --lr 0.05 " +
                           "--epochs 20 --patience 2 --validation " + validation + " -q --json --save " + model;
  testing::CommandResult last = run_cli(args);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(json_value(last.out, "saved_epoch"), json_value(last.out, "epochs")) << last.out;

  testing::CommandResult best = run_cli(args + " --restore-best");
  ASSERT_EQ(best.exit_code, 0) << best.err;
  const double best_epoch = json_value(best.out, "best_epoch");
  EXPECT_EQ(json_value(best.out, "saved_epoch"), best_epoch) << best.out;
  EXPECT_LT(best_epoch, json_value(best.out, "epochs")) << "early stopping did not stop: " << best.out;
  // The saved model is the best epoch's: evaluate gives its val_loss.
  testing::CommandResult eval = run_cli("evaluate --model " + model + " --file " + validation + " --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_NEAR(json_value(eval.out, "loss"), json_value(best.out, "val_loss"), 1e-5) << eval.out << best.out;
  EXPECT_LT(json_value(best.out, "val_loss"), json_value(last.out, "val_loss")) << best.out << last.out;

  testing::CommandResult bad = run_cli("train --file " + data + " --decode " + kDecode + " --task binary --restore-best");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--patience"), std::string::npos) << bad.err;
}

TEST(TrainCliOutputs, EvaluatingNoRecordFailsNamingTheRanges) {
  TempDir dir;
  const std::string model = dir / "model.smlm";
  ASSERT_EQ(run_cli("train --file " + write_lines(dir, "train.csv", learnable_rows(100)) + " --decode " + kDecode +
                " --task binary --model mlp:4 --epochs 1 -q --save " + model)
                .exit_code,
            0);
  const std::string empty = write_lines(dir, "empty.csv", {});
  testing::CommandResult r = run_cli("evaluate --model " + model + " --file " + empty);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no record was read from " + empty), std::string::npos) << r.err;

  // Every record bad and skipped.
  const std::string bad = write_lines(dir, "bad.csv", {"x,y,z", "1,2", "a,b,c"});
  r = run_cli("evaluate --model " + model + " --file " + bad + " --bad-records skip");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no record was read from " + bad), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad and skipped"), std::string::npos) << r.err;

  // An empty Kafka range.
  const std::string topic = TestKafka::get().create_topic("eval-empty", 1);
  r = run_cli("evaluate " + broker() + " --model " + model + " --topic " + topic);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no record was read from " + topic + ":0"), std::string::npos) << r.err;
}

TEST(TrainCliOutputs, PeopleGetFourSignificantDigitsAndJsonGetsFullPrecision) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(300));
  const std::string model = dir / "model.smlm";
  testing::CommandResult r = run_cli("train --file " + data + " --decode " + kDecode +
                                 " --task binary --model mlp:4 --epochs 2 -q --save " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testing::CommandResult human = run_cli("evaluate --model " + model + " --file " + data);
  testing::CommandResult json = run_cli("evaluate --model " + model + " --file " + data + " --json");
  ASSERT_EQ(human.exit_code, 0);
  ASSERT_EQ(json.exit_code, 0);
  // "accuracy=0.8533 auc=0.9312 loss=0.5021 records=300"
  const std::regex field(R"(([a-z_]+)=([^ \n]+))");
  int fields = 0;
  for (const std::string* out : {&r.out, &human.out}) {
    for (auto it = std::sregex_iterator(out->begin(), out->end(), field); it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1], value = (*it)[2];
      ++fields;
      std::string digits;
      for (char c : value.substr(0, value.find('e'))) {
        if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
      }
      digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
      EXPECT_LE(digits.size(), name == "records" ? 6u : 4u) << name << "=" << value << " in " << *out;
    }
  }
  EXPECT_GE(fields, 6) << r.out << human.out;
  EXPECT_NE(human.out.find("records=300"), std::string::npos) << human.out;
  // JSON keeps every digit: the loss printed there rounds to the human one.
  const double loss = json_value(json.out, "loss");
  EXPECT_NE(json.out.find(fmt::format("\"loss\":{}", loss)), std::string::npos) << json.out;
  EXPECT_NE(human.out.find(fmt::format("loss={:.4g}", loss)), std::string::npos) << human.out << json.out;
  EXPECT_GT(fmt::format("{}", loss).size(), 8u) << "full precision: " << json.out;
}

}  // namespace
}  // namespace streamml::train
