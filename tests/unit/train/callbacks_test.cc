// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/train/early_stopping.h"
#include "streamml/train/lambda_callback.h"
#include "streamml/train/metrics_log.h"
#include "streamml/train/model_checkpoint.h"
#include "streamml/train/progress_bar.h"
#include "streamml/train/svg_plot.h"
#include "streamml/train/trainer.h"
#include "unit/model/synthetic.h"

#include "support/temp_dir.h"

namespace streamml::train {
namespace {

namespace fs = std::filesystem;
using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;
using streamml::testing::to_batch;

using streamml::testing::TempDir;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

model::Model new_model(model::Task task) {
  model::ModelConfig c;
  c.task = task;
  c.features.num_features = 6;
  c.spec = model::parse_model_spec("mlp:8");
  return model::Model::create(c);
}

// Fits a binary model for `epochs` epochs with validation and `callbacks`.
History run(const Callbacks& callbacks, int epochs = 3) {
  auto train = data::InMemorySource::from_batch(
      to_batch(make_dataset(SyntheticTask::kBinary, 200, 1)), {.batch_size = 20});
  auto validation = data::InMemorySource::from_batch(
      to_batch(make_dataset(SyntheticTask::kBinary, 100, 2)), {.batch_size = 50});
  model::Model m = new_model(model::Task::binary());
  TrainOptions options;
  options.epochs = epochs;
  return fit(m, train, options, &validation, callbacks);
}

// Minimal XML well-formedness: every start tag is closed in order.
void expect_well_formed_xml(const std::string& xml) {
  std::vector<std::string> stack;
  std::regex tag(R"(<(/?)([a-zA-Z][\w:-]*)([^>]*?)(/?)>)");
  size_t count = 0;
  std::string body = xml.substr(xml.find("?>") + 2);
  for (auto it = std::sregex_iterator(body.begin(), body.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    ++count;
    if (m[1] == "/") {
      ASSERT_FALSE(stack.empty()) << "unexpected </" << m[2] << ">";
      ASSERT_EQ(stack.back(), m[2].str());
      stack.pop_back();
    } else if (m[4] != "/") {
      stack.push_back(m[2]);
    }
    // Attribute quotes balance.
    const std::string attrs = m[3];
    EXPECT_EQ(std::count(attrs.begin(), attrs.end(), '"') % 2, 0) << attrs;
  }
  EXPECT_TRUE(stack.empty());
  EXPECT_GT(count, 10u);
}

TEST(MetricsLog, WritesOneJsonObjectPerEvent) {
  TempDir dir;
  MetricsLog log(MetricsLogOptions{.path = dir.file("metrics.jsonl"), .every_steps = 5});
  History h = run({&log});
  std::vector<std::string> lines = lines_of(read_all(dir.file("metrics.jsonl")));
  // train_begin + 3 epochs x (10 steps / 5) batch lines + 3 epoch lines + train_end.
  ASSERT_EQ(lines.size(), 1u + 6u + 3u + 1u);
  EXPECT_NE(lines[0].find(R"("event":"train_begin")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("task":"binary")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("event":"batch","epoch":0,"step":5,"records":100)"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[3].find(R"("event":"epoch","epoch":0,"step":10,"records":200)"), std::string::npos)
      << lines[3];
  for (const char* key : {R"("loss":)", R"("accuracy":)", R"("auc":)", R"("val_loss":)", R"("val_auc":)"}) {
    EXPECT_NE(lines[3].find(key), std::string::npos) << key << " in " << lines[3];
  }
  // The logged loss is the History's loss, in full precision.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines[3], m, std::regex(R"("loss":([-0-9.e]+))")));
  EXPECT_DOUBLE_EQ(std::stod(m[1]), h.epochs[0].at("loss"));
  EXPECT_NE(lines.back().find(R"("event":"train_end","epochs_run":3,"step":30)"), std::string::npos)
      << lines.back();
  for (const std::string& line : lines) {
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    EXPECT_EQ(line.find("nan"), std::string::npos);
  }
}

TEST(MetricsLog, UnwritablePathIsInputErrorNamingIt) {
  try {
    MetricsLog log(MetricsLogOptions{.path = "/nonexistent/dir/m.jsonl"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/m.jsonl"), std::string::npos);
  }
}

TEST(SvgPlot, WritesAWellFormedPlotWithBothCurvesAndLegend) {
  TempDir dir;
  SvgPlot plot(dir.file("train.svg"));
  run({&plot}, 4);
  const std::string svg = read_all(dir.file("train.svg"));
  ASSERT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find(R"(<svg xmlns="http://www.w3.org/2000/svg")"), std::string::npos);
  expect_well_formed_xml(svg);
  // Three panels (loss, accuracy, AUC: the binary task logs auc), each with a training and a validation
  // curve of 4 points.
  std::regex polyline(R"re(<polyline class="series" data-name="(\w+)"[^>]*points="([^"]*)")re");
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), polyline); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
    std::istringstream points((*it)[2].str());
    int n = 0;
    for (std::string p; points >> p;) ++n;
    EXPECT_EQ(n, 4);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"training", "validation", "training", "validation", "training",
                                             "validation"}));
  EXPECT_NE(svg.find(">Loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">AUC</text>"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">epoch</text>"), std::string::npos);
  EXPECT_NE(svg.find(R"(class="legend")"), std::string::npos);
}

TEST(SvgPlot, RendersEmptyAndSingleEpochHistories) {
  expect_well_formed_xml(render_training_svg({}, "rmse"));
  EpochHistory one = {{1, {{"loss", 0.5}, {"rmse", 0.7}}}};
  const std::string svg = render_training_svg(one, "rmse", "a <title> & more");
  expect_well_formed_xml(svg);
  EXPECT_NE(svg.find("a &lt;title&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(ProgressBar, PlainModeWritesOneLinePerEpochWithMetrics) {
  TempDir dir;
  std::FILE* out = std::fopen(dir.file("progress.txt").c_str(), "w+");
  ASSERT_NE(out, nullptr);
  ProgressBar bar(ProgressBarOptions{.stream = out, .style = ProgressStyle::kPlain, .plain_interval = {}});
  run({&bar}, 2);
  std::fclose(out);
  std::vector<std::string> lines = lines_of(read_all(dir.file("progress.txt")));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("Epoch 1/2  10/10 [" + std::string(30, '=') + "]", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("Epoch 2/2  10/10 [" + std::string(30, '=') + "]", 0), 0u) << lines[1];
  for (const std::string& line : lines) {
    EXPECT_NE(line.find("rec/s"), std::string::npos) << line;
    EXPECT_NE(line.find("- loss: "), std::string::npos) << line;
    EXPECT_NE(line.find("- val_accuracy: "), std::string::npos) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos);
  }
}

TEST(ProgressBar, TerminalModeRedrawsInPlace) {
  TempDir dir;
  std::FILE* out = std::fopen(dir.file("progress.txt").c_str(), "w+");
  ProgressBar bar(ProgressBarOptions{.stream = out, .style = ProgressStyle::kTerminal, .refresh = {}, .columns = 200});
  run({&bar}, 2);
  std::fclose(out);
  const std::string text = read_all(dir.file("progress.txt"));
  // The first epoch's total is unknown until it ends: a step count.
  EXPECT_NE(text.find("\r\x1b[KEpoch 1/2  5 steps "), std::string::npos);
  EXPECT_NE(text.find("\r\x1b[KEpoch 2/2   5/10 [" + std::string(15, '=') + ">"), std::string::npos);
  EXPECT_NE(text.find("ETA"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(ModelCheckpoint, SavesEveryNStepsWithPlaceholders) {
  TempDir dir;
  ModelCheckpoint checkpoint(CheckpointOptions{.path = dir.file("ckpt-{epoch}-{step}.model"), .every_steps = 4});
  run({&checkpoint}, 2);  // 20 steps: 4, 8, 12, 16, 20
  EXPECT_EQ(checkpoint.saves(), 5);
  EXPECT_TRUE(fs::exists(dir.file("ckpt-1-4.model")));
  EXPECT_TRUE(fs::exists(dir.file("ckpt-2-20.model")));
  model::Model loaded = model::Model::load(dir.file("ckpt-2-12.model"));
  EXPECT_EQ(loaded.metadata().at("checkpoint_step"), "12");
  EXPECT_THROW(ModelCheckpoint(CheckpointOptions{}), ConfigError);
}

TEST(EarlyStopping, RestoresBestWeightsAndRejectsBadOptions) {
  EXPECT_THROW(EarlyStopping(EarlyStoppingOptions{.patience = 0}), ConfigError);
  // Monitor a metric that gets worse as accuracy improves: stop after 1 epoch
  // of patience and restore epoch 1's weights.
  EarlyStopping stop(EarlyStoppingOptions{.monitor = "val_accuracy", .patience = 1, .restore_best = true});
  LambdaCallback flip;
  TrainContext* seen = nullptr;
  flip.train_begin = [&](TrainContext& c) { seen = &c; };
  auto train = data::InMemorySource::from_batch(
      to_batch(make_dataset(SyntheticTask::kBinary, 200, 1)), {.batch_size = 20});
  auto validation = data::InMemorySource::from_batch(
      to_batch(make_dataset(SyntheticTask::kBinary, 100, 2)), {.batch_size = 50});
  model::Model m = new_model(model::Task::binary());
  History h = fit(m, train, TrainOptions{.learning_rate = 0.05, .epochs = 30}, &validation, {&flip, &stop});
  ASSERT_NE(seen, nullptr);
  EXPECT_TRUE(h.stopped_early);
  EXPECT_EQ(stop.stopped_epoch(), h.epochs_run - 1);
  EXPECT_EQ(h.epochs[static_cast<size_t>(stop.best_epoch())].at("val_accuracy"), *stop.best_value());
  // The restored model scores the best epoch's validation accuracy.
  validation.seek_epoch(0);
  EXPECT_DOUBLE_EQ(evaluate(m, validation).at("accuracy"), *stop.best_value());
}

}  // namespace
}  // namespace streamml::train
