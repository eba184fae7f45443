// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The Keras-level flags of `streamml train` and `evaluate` (issue 19):
// --validation-split, --shuffle-buffer, --monitor/--min-delta, --save-best,
// --lr-schedule, precision/recall/F1 with a confusion matrix, and the
// progress bar's total for bounded Kafka ranges. The CLI runs as a child
// process; Kafka tests use the embedded cluster or STREAMML_TEST_BOOTSTRAP.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

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

using testing::TempDir;
using testing::TestKafka;

constexpr const char* kDecode = "csv:names=a+b+y,label=y";

std::string train_args(const std::string& data) {
  return "train --file " + data + " --decode " + kDecode + " --task binary --model mlp:8 -q --json ";
}

TEST(TrainCliKeras, ValidationSplitValidatesOnTheLastRecords) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(400));
  testing::CommandResult r = run_cli(train_args(data) + "--epochs 2 --validation-split 0.25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_value(r.out, "records"), 300) << r.out;
  EXPECT_EQ(json_value(r.out, "val_records"), 100) << r.out;
  EXPECT_FALSE(std::isnan(json_value(r.out, "val_loss"))) << r.out;

  testing::CommandResult both = run_cli(train_args(data) + "--validation-split 0.2 --validation " + data);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--validation-split"), std::string::npos) << both.err;
  testing::CommandResult bad = run_cli(train_args(data) + "--validation-split 1.5");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("streamml: error: --validation-split 1.5"), std::string::npos) << bad.err;
}

TEST(TrainCliKeras, ShuffleBufferChangesTheOrderRepeatably) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(300));
  const std::string args = train_args(data) + "--epochs 1 --optimizer sgd --lr 0.5 --batch-size 16 ";
  testing::CommandResult plain = run_cli(args);
  testing::CommandResult shuffled = run_cli(args + "--shuffle-buffer 300");
  testing::CommandResult again = run_cli(args + "--shuffle-buffer 300");
  ASSERT_EQ(plain.exit_code, 0);
  ASSERT_EQ(shuffled.exit_code, 0);
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_EQ(json_value(shuffled.out, "records"), 300);
  EXPECT_NE(json_value(plain.out, "loss"), json_value(shuffled.out, "loss")) << plain.out << shuffled.out;
  EXPECT_EQ(json_value(shuffled.out, "loss"), json_value(again.out, "loss")) << "same seed, same order";
}

TEST(TrainCliKeras, MonitorAndMinDeltaDecideEarlyStopping) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(300));
  // No change of accuracy is larger than 1: every epoch after the first is
  // "no improvement", so patience 1 stops after epoch 2.
  testing::CommandResult r =
      run_cli(train_args(data) + "--epochs 10 --patience 1 --monitor accuracy --min-delta 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_value(r.out, "epochs"), 2) << r.out;
  EXPECT_EQ(json_value(r.out, "best_epoch"), 1) << r.out;

  testing::CommandResult missing = run_cli(train_args(data) + "--epochs 2 --patience 1 --monitor val_accuracy");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("val_accuracy"), std::string::npos) << missing.err;
  testing::CommandResult negative = run_cli(train_args(data) + "--min-delta -0.5");
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.err.find("--min-delta"), std::string::npos) << negative.err;
}

TEST(TrainCliKeras, SaveBestKeepsTheBestEpochsModel) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(600, 1));
  // Flipped validation labels: the better the model learns, the worse its
  // val_loss, so an early epoch is the best.
  const std::string validation = write_lines(dir, "flipped.csv", flipped_rows(300, 2));
  const std::string best = dir / "best.smlm", last = dir / "last.smlm";
  testing::CommandResult r = run_cli(train_args(data) + "--lr 0.05 --epochs 6 --validation " + validation +
                                 " --save-best " + best + " --save " + last);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(best));
  const double best_epoch = json_value(r.out, "best_epoch");
  EXPECT_GE(best_epoch, 1) << r.out;
  EXPECT_LT(best_epoch, 6) << r.out;
  testing::CommandResult eval_best = run_cli("evaluate --model " + best + " --file " + validation + " --json");
  testing::CommandResult eval_last = run_cli("evaluate --model " + last + " --file " + validation + " --json");
  ASSERT_EQ(eval_best.exit_code, 0);
  ASSERT_EQ(eval_last.exit_code, 0);
  EXPECT_LT(json_value(eval_best.out, "loss"), json_value(eval_last.out, "loss")) << eval_best.out << eval_last.out;

  // Without validation the default monitor is the training loss; val_loss
  // then has nothing to watch; a directory is no file to save to.
  std::filesystem::remove(best);
  testing::CommandResult no_validation = run_cli(train_args(data) + "--epochs 1 --save-best " + best);
  EXPECT_EQ(no_validation.exit_code, 0) << no_validation.err;
  EXPECT_TRUE(std::filesystem::exists(best));
  testing::CommandResult monitor_val = run_cli(train_args(data) + "--epochs 1 --monitor val_loss --save-best " + best);
  EXPECT_EQ(monitor_val.exit_code, 2);
  EXPECT_NE(monitor_val.err.find("val_loss"), std::string::npos) << monitor_val.err;
  testing::CommandResult bad_path = run_cli(train_args(data) + "--epochs 1 --save-best " + dir.path());
  EXPECT_EQ(bad_path.exit_code, 2);
  EXPECT_NE(bad_path.err.find("--save-best"), std::string::npos) << bad_path.err;
}

TEST(TrainCliKeras, LrScheduleSetsEachEpochsRate) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(200));
  testing::CommandResult step = run_cli(train_args(data) + "--epochs 3 --lr 0.01 --lr-schedule step:1:0.5");
  ASSERT_EQ(step.exit_code, 0) << step.err;
  EXPECT_DOUBLE_EQ(json_value(step.out, "lr"), 0.0025) << step.out;  // the last epoch's
  testing::CommandResult cosine = run_cli(train_args(data) + "--epochs 2 --lr 0.01 --lr-schedule cosine");
  ASSERT_EQ(cosine.exit_code, 0) << cosine.err;
  EXPECT_NEAR(json_value(cosine.out, "lr"), 0.005, 1e-12) << cosine.out;
  testing::CommandResult plateau =
      run_cli(train_args(data) + "--epochs 3 --lr 0.01 --validation-split 0.2 --lr-schedule plateau:1:0.5");
  ASSERT_EQ(plateau.exit_code, 0) << plateau.err;
  EXPECT_LE(json_value(plateau.out, "lr"), 0.01) << plateau.out;

  testing::CommandResult bad = run_cli(train_args(data) + "--lr-schedule linear");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("streamml: error: --lr-schedule 'linear'"), std::string::npos) << bad.err;
}

TEST(TrainCliKeras, EvaluatePrintsPrecisionRecallF1AndAConfusionMatrix) {
  TempDir dir;
  const std::string data = write_lines(dir, "train.csv", learnable_rows(300));
  const std::string model = dir / "model.smlm";
  ASSERT_EQ(run_cli(train_args(data) + "--epochs 5 --lr 0.05 --save " + model).exit_code, 0);
  testing::CommandResult text = run_cli("evaluate --model " + model + " --file " + data);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* metric : {" precision=", " recall=", " f1="}) {
    EXPECT_NE(text.out.find(metric), std::string::npos) << text.out;
  }
  EXPECT_NE(text.out.find("\nconfusion matrix (rows: true class, columns: predicted class)\n"), std::string::npos)
      << text.out;
  const std::regex row(R"(\ntrue ([01]) +(\d+) +(\d+))");
  int total = 0, rows_seen = 0;
  for (auto it = std::sregex_iterator(text.out.begin(), text.out.end(), row); it != std::sregex_iterator(); ++it) {
    total += std::stoi((*it)[2]) + std::stoi((*it)[3]);
    ++rows_seen;
  }
  EXPECT_EQ(rows_seen, 2) << text.out;
  EXPECT_EQ(total, 300) << text.out;

  testing::CommandResult json = run_cli("evaluate --model " + model + " --file " + data + " --json");
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_GT(json_value(json.out, "f1"), 0.5) << json.out;
  const std::regex matrix(R"("confusion_matrix":\[\[(\d+),(\d+)\],\[(\d+),(\d+)\]\]\}$)");
  std::smatch m;
  const std::string line = json.out.substr(0, json.out.find_last_not_of('\n') + 1);
  ASSERT_TRUE(std::regex_search(line, m, matrix)) << json.out;
  const double tp = std::stod(m[4]), fp = std::stod(m[2]), fn = std::stod(m[3]);
  EXPECT_NEAR(json_value(json.out, "precision"), tp / (tp + fp), 1e-9) << json.out;
  EXPECT_NEAR(json_value(json.out, "recall"), tp / (tp + fn), 1e-9) << json.out;
}

TEST(TrainCliKeras, TrainingOnABoundedRangeShowsOneProgressLinePerEpoch) {
  const std::string topic = TestKafka::get().create_topic("keras-progress", 1);
  testing::produce_to(topic, 0, learnable_rows(200));
  // stderr is no terminal here: plain lines, one per epoch, with the total
  // (the terminal's first-epoch estimate is tested in unit_train).
  testing::CommandResult r = run_cli("train -b " + TestKafka::get().bootstrap() + " --topic " + topic + ":0:0:199 --decode " +
                                 kDecode + " --task binary --model mlp:4 --epochs 2 --batch-size 20");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Epoch 1/2  10/10 ["), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Epoch 2/2  10/10 ["), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
}

}  // namespace
}  // namespace streamml::train
