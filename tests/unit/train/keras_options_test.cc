// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The Keras-level training options: learning-rate schedules, validation
// split, shuffle buffer, best-only checkpoints, precision/recall/F1 with a
// confusion matrix, and a progress bar that knows its total and fits the
// terminal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/data/shuffle_source.h"
#include "streamml/data/validation_split.h"
#include "streamml/train/lr_schedule.h"
#include "streamml/train/metrics.h"
#include "streamml/train/model_checkpoint.h"
#include "streamml/train/progress_bar.h"
#include "streamml/train/trainer.h"
#include "support/temp_dir.h"
#include "unit/model/synthetic.h"

namespace streamml::train {
namespace {

namespace fs = std::filesystem;
using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;
using streamml::testing::TempDir;
using streamml::testing::to_batch;

model::Model new_model() {
  model::ModelConfig c;
  c.task = model::Task::binary();
  c.features.num_features = 6;
  c.spec = model::parse_model_spec("mlp:8");
  return model::Model::create(c);
}

data::InMemorySource numbered_rows(size_t rows, size_t batch_size) {
  std::vector<float> features, labels;
  for (size_t i = 0; i < rows; ++i) {
    features.push_back(static_cast<float>(i));
    labels.push_back(static_cast<float>(i % 2));
  }
  return data::InMemorySource(features, 1, labels, 1, {.batch_size = batch_size});
}

std::vector<float> read_rows(data::BatchSource& source) {
  std::vector<float> rows;
  while (auto batch = source.next()) rows.insert(rows.end(), batch->features.begin(), batch->features.end());
  return rows;
}

TEST(LrSchedule, ParsesTheThreeFormsAndNamesBadSpecs) {
  EXPECT_EQ(parse_lr_schedule("").kind, LrScheduleKind::kNone);
  LrSchedule step = parse_lr_schedule("step:10:0.5");
  EXPECT_EQ(step.kind, LrScheduleKind::kStep);
  EXPECT_EQ(step.every_epochs, 10);
  EXPECT_DOUBLE_EQ(step.factor, 0.5);
  EXPECT_EQ(parse_lr_schedule("cosine").kind, LrScheduleKind::kCosine);
  LrSchedule plateau = parse_lr_schedule("plateau:3:0.2");
  EXPECT_EQ(plateau.kind, LrScheduleKind::kPlateau);
  EXPECT_EQ(plateau.patience, 3);
  EXPECT_EQ(plateau.to_string(), "plateau:3:0.2");
  for (const char* bad : {"linear", "step", "step:2", "step:0:0.5", "step:2:1.5", "step:x:0.5", "plateau:1.5:0.5",
                          "plateau:2:0"}) {
    try {
      parse_lr_schedule(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--lr-schedule"), std::string::npos) << e.what();
    }
  }
}

TEST(LrSchedule, StepCosineAndPlateauRates) {
  LrScheduler step(parse_lr_schedule("step:2:0.5"), 1.0, 6, "loss", 0.0);
  std::vector<double> rates;
  for (int e = 0; e < 6; ++e) rates.push_back(step.rate(e));
  EXPECT_EQ(rates, (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25, 0.25}));

  LrScheduler cosine(parse_lr_schedule("cosine"), 1.0, 4, "loss", 0.0);
  EXPECT_DOUBLE_EQ(cosine.rate(0), 1.0);
  EXPECT_NEAR(cosine.rate(2), 0.5, 1e-12);
  EXPECT_GT(cosine.rate(3), 0.0);  // the last epoch still trains

  LrScheduler plateau(parse_lr_schedule("plateau:2:0.1"), 1.0, 10, "val_loss", 0.0);
  EXPECT_DOUBLE_EQ(plateau.rate(0), 1.0);
  plateau.observe({{"val_loss", 0.5}});
  plateau.observe({{"val_loss", 0.6}});  // 1 epoch without improvement
  EXPECT_DOUBLE_EQ(plateau.rate(2), 1.0);
  plateau.observe({{"val_loss", 0.5}});  // 2: decay
  EXPECT_DOUBLE_EQ(plateau.rate(3), 0.1);
  EXPECT_THROW(plateau.observe({{"loss", 0.5}}), ConfigError);
}

TEST(LrSchedule, FitAppliesTheRatePerEpochAndLogsIt) {
  auto train = data::InMemorySource::from_batch(to_batch(make_dataset(SyntheticTask::kBinary, 100, 1)),
                                                {.batch_size = 20});
  model::Model m = new_model();
  TrainOptions options;
  options.epochs = 3;
  options.learning_rate = 0.01;
  options.lr_schedule = parse_lr_schedule("step:1:0.5");
  Trainer trainer(m, options);
  History h = trainer.fit(train);
  ASSERT_EQ(h.epochs.size(), 3u);
  EXPECT_DOUBLE_EQ(h.epochs[0].at("lr"), 0.01);
  EXPECT_DOUBLE_EQ(h.epochs[1].at("lr"), 0.005);
  EXPECT_DOUBLE_EQ(h.epochs[2].at("lr"), 0.0025);
  EXPECT_DOUBLE_EQ(trainer.options().learning_rate, 0.01);  // restored for the next fit
}

TEST(ValidationSplit, TakesTheLastFractionAndReplaysBothSides) {
  data::InMemorySource source = numbered_rows(10, 3);
  data::ValidationSplit split(source, 0.3);
  EXPECT_EQ(split.training_records(), 7);
  EXPECT_EQ(split.validation_records(), 3);
  EXPECT_EQ(read_rows(split.training()), (std::vector<float>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read_rows(split.validation()), (std::vector<float>{7, 8, 9}));
  split.training().reset();
  EXPECT_EQ(read_rows(split.training()), (std::vector<float>{0, 1, 2, 3, 4, 5, 6}));
  split.validation().reset();
  EXPECT_EQ(read_rows(split.validation()), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(split.training().size_hint(), 7);
}

TEST(ValidationSplit, ValidationFirstSkipsTheTrainingRecords) {
  data::InMemorySource source = numbered_rows(10, 4);
  data::ValidationSplit split(source, 0.5);
  EXPECT_EQ(read_rows(split.validation()), (std::vector<float>{5, 6, 7, 8, 9}));
  EXPECT_EQ(read_rows(split.training()), (std::vector<float>{0, 1, 2, 3, 4}));
}

TEST(ValidationSplit, RejectsFractionsThatLeaveASideEmpty) {
  data::InMemorySource source = numbered_rows(5, 2);
  EXPECT_THROW(data::ValidationSplit(source, 0.0), ConfigError);
  EXPECT_THROW(data::ValidationSplit(source, 1.0), ConfigError);
  EXPECT_THROW(data::ValidationSplit(source, 0.1), ConfigError);  // floor(0.5) = 0 validation records
}

TEST(ValidationSplit, FitValidatesOnTheSplitRecords) {
  auto train = data::InMemorySource::from_batch(to_batch(make_dataset(SyntheticTask::kBinary, 200, 1)),
                                                {.batch_size = 32});
  model::Model m = new_model();
  TrainOptions options;
  options.epochs = 2;
  options.validation_split = 0.25;
  History h = fit(m, train, options);
  ASSERT_EQ(h.epochs.size(), 2u);
  for (const Logs& logs : h.epochs) {
    EXPECT_DOUBLE_EQ(logs.at("records"), 150);
    EXPECT_DOUBLE_EQ(logs.at("val_records"), 50);
  }
  auto other = data::InMemorySource::from_batch(to_batch(make_dataset(SyntheticTask::kBinary, 20, 2)), {});
  EXPECT_THROW(fit(m, train, options, &other), ConfigError);
}

TEST(ShuffleSource, KeepsEveryRowChangesTheOrderAndRepeats) {
  data::InMemorySource source = numbered_rows(100, 10);
  data::ShuffleSource shuffled(source, 30, /*seed=*/7);
  std::vector<float> first = read_rows(shuffled);
  ASSERT_EQ(first.size(), 100u);
  std::vector<float> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  source.reset();
  EXPECT_EQ(sorted, read_rows(source));
  EXPECT_NE(first, sorted);
  shuffled.reset();
  std::vector<float> second = read_rows(shuffled);
  EXPECT_NE(first, second);  // each epoch its own order

  data::InMemorySource again = numbered_rows(100, 10);
  data::ShuffleSource same(again, 30, /*seed=*/7);
  EXPECT_EQ(read_rows(same), first);  // repeatable
  EXPECT_THROW(data::ShuffleSource(again, 0, 1), ConfigError);
}

TEST(ModelCheckpoint, SaveBestOnlySavesWhenTheMonitorImproves) {
  TempDir dir;
  model::Model m = new_model();
  ModelCheckpoint checkpoint(
      CheckpointOptions{.path = dir.file("best.smlm"), .save_best_only = true, .monitor = "val_accuracy"});
  TrainContext context;
  context.model = &m;
  context.has_validation = true;
  checkpoint.on_train_begin(context);
  const std::vector<double> accuracy = {0.6, 0.8, 0.7, 0.85, 0.85};
  std::vector<int> saved_after;
  for (int epoch = 0; epoch < 5; ++epoch) {
    context.epoch = epoch;
    context.step = (epoch + 1) * 10;
    checkpoint.on_epoch_end(context, epoch, {{"val_accuracy", accuracy[epoch]}, {"loss", 1.0}});
    saved_after.push_back(static_cast<int>(checkpoint.saves()));
  }
  checkpoint.on_train_end(context, {});
  EXPECT_EQ(saved_after, (std::vector<int>{1, 2, 2, 3, 3}));
  EXPECT_EQ(checkpoint.best_epoch(), 4);
  EXPECT_EQ(model::Model::load(dir.file("best.smlm")).metadata().at("checkpoint_epoch"), "4");

  ModelCheckpoint missing(CheckpointOptions{.path = dir.file("x.smlm"), .save_best_only = true, .monitor = "val_loss"});
  context.has_validation = false;
  EXPECT_THROW(missing.on_train_begin(context), ConfigError);
}

model::Predictions class_predictions(model::Task task, const std::vector<int64_t>& classes) {
  model::Predictions p;
  p.task = task;
  p.size = classes.size();
  p.classes = classes;
  const size_t width = task.kind == model::TaskKind::kMulticlass ? static_cast<size_t>(task.num_classes) : 1;
  for (int64_t c : classes) {
    for (size_t i = 0; i < width; ++i) {
      p.values.push_back(width == 1 ? static_cast<float>(c) : (static_cast<int64_t>(i) == c ? 1.0f : 0.0f));
    }
  }
  return p;
}

TEST(Metrics, BinaryPrecisionRecallF1AndConfusion) {
  MetricAccumulator acc(model::Task::binary());
  // truth:      1 1 1 0 0 0 0
  // predicted:  1 1 0 1 0 0 0  -> tp 2, fn 1, fp 1, tn 3
  std::vector<float> y = {1, 1, 1, 0, 0, 0, 0};
  acc.add(class_predictions(model::Task::binary(), {1, 1, 0, 1, 0, 0, 0}), y.data(), 0.0);
  Metrics m = acc.classification_metrics();
  EXPECT_DOUBLE_EQ(m.at("precision"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("recall"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("f1"), 2.0 / 3.0);
  EXPECT_EQ(acc.confusion(), (ConfusionMatrix{{3, 1}, {1, 2}}));
  EXPECT_EQ(acc.metrics().count("f1"), 0u);  // training logs stay as they were
}

TEST(Metrics, MulticlassMacroAverages) {
  const model::Task task = model::Task::multiclass(3);
  MetricAccumulator acc(task);
  // class 0: tp 2 of 2 labelled, 3 predicted; class 1: tp 1 of 2, 1 predicted; class 2: never labelled nor predicted.
  std::vector<float> y = {0, 0, 1, 1};
  acc.add(class_predictions(task, {0, 0, 1, 0}), y.data(), 0.0);
  Metrics m = acc.classification_metrics();
  const double p0 = 2.0 / 3.0, r0 = 1.0, p1 = 1.0, r1 = 0.5;
  EXPECT_DOUBLE_EQ(m.at("precision"), (p0 + p1) / 2);
  EXPECT_DOUBLE_EQ(m.at("recall"), (r0 + r1) / 2);
  EXPECT_DOUBLE_EQ(m.at("f1"), (2 * p0 * r0 / (p0 + r0) + 2 * p1 * r1 / (p1 + r1)) / 2);
  EXPECT_EQ(acc.confusion(), (ConfusionMatrix{{2, 0, 0}, {1, 1, 0}, {0, 0, 0}}));
  EXPECT_TRUE(MetricAccumulator(model::Task::regression()).confusion().empty());
  EXPECT_TRUE(higher_is_better("val_f1"));
}

// A source that knows its size, as bounded Kafka ranges do.
class HintedSource final : public data::BatchSource {
 public:
  explicit HintedSource(data::InMemorySource inner) : inner_(std::move(inner)) {}
  std::optional<data::Batch> next() override { return inner_.next(); }
  void reset() override { inner_.reset(); }
  size_t num_features() const override { return inner_.num_features(); }
  size_t num_labels() const override { return inner_.num_labels(); }
  std::vector<std::string> feature_names() const override { return inner_.feature_names(); }
  std::optional<int64_t> size_hint() const override { return static_cast<int64_t>(inner_.num_rows()); }

 private:
  data::InMemorySource inner_;
};

std::string fit_with_bar(int columns) {
  TempDir dir;
  const std::string path = dir.file("progress.txt");
  std::FILE* out = std::fopen(path.c_str(), "w+");
  ProgressBar bar(ProgressBarOptions{.stream = out, .style = ProgressStyle::kTerminal, .refresh = {},
                                     .columns = columns});
  HintedSource train(data::InMemorySource::from_batch(to_batch(make_dataset(SyntheticTask::kBinary, 200, 1)),
                                                      {.batch_size = 20}));
  model::Model m = new_model();
  TrainOptions options;
  options.epochs = 2;
  fit(m, train, options, nullptr, {&bar});
  std::fclose(out);
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ProgressBar, FirstEpochKnowsItsTotalFromTheSizeHint) {
  const std::string text = fit_with_bar(200);
  EXPECT_NE(text.find("\r\x1b[KEpoch 1/2   5/10 [" + std::string(15, '=') + ">"), std::string::npos) << text;
  EXPECT_EQ(text.find("steps"), std::string::npos) << text;
}

TEST(ProgressBar, RedrawsFitTheTerminalWidth) {
  const std::string text = fit_with_bar(60);
  size_t redraws = 0;
  // Every redraw (between \r\x1b[K and the next \r or newline) fits in 59 columns.
  for (size_t at = text.find("\r\x1b[K"); at != std::string::npos; at = text.find("\r\x1b[K", at + 1)) {
    const size_t begin = at + 4;
    const size_t end = text.find_first_of("\r\n", begin);
    const std::string line = text.substr(begin, end - begin);
    if (end != std::string::npos && text[end] == '\n') continue;  // the epoch's summary line is kept whole
    EXPECT_LE(line.size(), 59u) << line;
    ++redraws;
  }
  EXPECT_GT(redraws, 0u);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  // The bar shrinks before anything is cut; it never goes below 10.
  EXPECT_EQ(fit_progress_line("Epoch 1/2  5/10 ", 500, false, " 1k rec/s", 30, 40),
            "Epoch 1/2  5/10 [======>.....] 1k rec/s");
  EXPECT_LE(fit_progress_line("Epoch 1/2  5/10 ", 500, false, " 1k rec/s - loss: 0.5", 30, 20).size(), 19u);
  // Cut where a metric begins: no dangling separator.
  EXPECT_EQ(fit_progress_line("Epoch 1/2  5/10 ", 500, false, " 1k rec/s - loss: 0.5", 30, 40),
            "Epoch 1/2  5/10 [=====>....] 1k rec/s");
  EXPECT_EQ(terminal_columns(nullptr), 80);
}

}  // namespace
}  // namespace streamml::train
