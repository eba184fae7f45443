// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Prequential evaluation and drift detection inside OnlineTrainer, on a SEA
// stream with one abrupt drift.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/concept_stream.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/model/model.h"
#include "streamml/train/online_trainer.h"
#include "unit/model/synthetic.h"

namespace streamml::train {
namespace {

constexpr int64_t kRecords = 8000;
constexpr int64_t kDriftAt = 4000;

// SEA records [from, to) of a stream drifting from theta 7 to theta 9.5 at
// kDriftAt (a fifth of the labels change), as topic "sea" partition 0 with
// offset = record number.
data::InMemorySource sea_source(int64_t from, int64_t to, size_t batch = 32) {
  data::ConceptStreamOptions o;
  o.seed = 4;
  o.drift_at = {kDriftAt};
  o.sea_concepts = {2, 3};
  data::ConceptStream stream(o);
  std::vector<float> features, labels;
  std::vector<data::RecordMeta> meta;
  for (int64_t i = 0; i < to; ++i) {
    const data::ConceptSample s = stream.next();
    if (i < from) continue;
    features.insert(features.end(), s.features.begin(), s.features.end());
    labels.push_back(static_cast<float>(s.label));
    data::RecordMeta m;
    m.topic = "sea";
    m.partition = 0;
    m.offset = i;
    meta.push_back(m);
  }
  return data::InMemorySource(features, 3, labels, 1, data::InMemorySourceOptions{.batch_size = batch}, meta);
}

model::Model sea_model() {
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features.num_features = 3;
  config.spec = model::parse_model_spec("mlp:16");
  config.seed = 7;
  return model::Model::create(config);
}

TrainOptions sea_train_options() {
  TrainOptions options;
  options.learning_rate = 0.01;
  options.stats_mode = StatsMode::kFirstBatch;
  return options;
}

OnlineOptions drift_options(const std::string& checkpoint = "") {
  OnlineOptions o;
  o.checkpoint_path = checkpoint;
  o.checkpoint_every = 10;
  o.drift.kind = DriftDetectorKind::kAdwin;
  return o;
}

// Records the drift events and the learning rate of every batch.
class DriftRecorder final : public Callback {
 public:
  explicit DriftRecorder(const Trainer* trainer = nullptr) : trainer_(trainer) {}
  void on_drift(TrainContext&, const DriftEvent& event) override { events.push_back(event); }
  void on_batch_end(TrainContext&, int64_t, const Logs& logs) override {
    last_logs = logs;
    if (trainer_ != nullptr) learning_rates.push_back(trainer_->options().learning_rate);
  }
  std::vector<DriftEvent> events;
  std::vector<double> learning_rates;
  Logs last_logs;

 private:
  const Trainer* trainer_;
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".smlm")).string();
}

TEST(OnlineDrift, DetectsTheSeaDriftAndNamesTheRecordAtWhichItWasDetected) {
  data::InMemorySource source = sea_source(0, kRecords);
  model::Model model = sea_model();
  Trainer trainer(model, sea_train_options());
  OnlineTrainer online(model, trainer, drift_options());
  DriftRecorder recorder;
  OnlineResult result = online.run(source, {&recorder});
  ASSERT_FALSE(recorder.events.empty());
  // Every alarm is after the drift (the model's error only falls before it).
  const DriftEvent& first = recorder.events.front();
  EXPECT_GE(first.offset, kDriftAt);
  EXPECT_LT(first.offset, kDriftAt + 1000) << "delay " << first.offset - kDriftAt;
  EXPECT_EQ(first.topic, "sea");
  EXPECT_EQ(first.partition, 0);
  EXPECT_EQ(first.detector, "adwin");
  EXPECT_EQ(first.drifts, 1);
  EXPECT_EQ(first.action, "log");
  EXPECT_GT(first.statistic, 0.0);
  // The first batch (no statistics yet) is not evaluated.
  EXPECT_EQ(first.record, first.offset + 1 - 32);
  EXPECT_EQ(result.drifts, static_cast<int64_t>(recorder.events.size()));
  // The prequential metrics go into the batch logs.
  EXPECT_EQ(recorder.last_logs.at("preq_records"), kRecords - 32);
  EXPECT_GT(recorder.last_logs.at("preq_accuracy"), 0.5);
  EXPECT_EQ(recorder.last_logs.at("drifts"), static_cast<double>(result.drifts));
  EXPECT_GT(result.prequential.at("preq_auc"), 0.5);
  std::printf(
      "[ figures  ] SEA 7 -> 9.5 at %lld: first drift at offset %lld (delay %lld), %lld drifts; final "
      "windowed accuracy %.3f\n",
      static_cast<long long>(kDriftAt), static_cast<long long>(first.offset),
      static_cast<long long>(first.offset - kDriftAt), static_cast<long long>(result.drifts),
      result.prequential.at("preq_accuracy"));
}

// DDM is left out: its error rate counts every record since its start, so
// after 4000 records a spike of a few hundred barely moves it (it raises no
// alarm on this stream).
TEST(OnlineDrift, PageHinkleyDetectsTheSeaDriftToo) {
  for (DriftDetectorKind kind : {DriftDetectorKind::kPageHinkley}) {
    data::InMemorySource source = sea_source(0, kRecords);
    model::Model model = sea_model();
    Trainer trainer(model, sea_train_options());
    OnlineOptions o = drift_options();
    o.drift.kind = kind;
    // The model's error rises from about 4 % to about 12 % for a few hundred
    // records: Page-Hinkley's defaults (delta 0.05, lambda 50) are made for
    // larger changes, so it is tuned to this one.
    o.drift.ph_delta = 0.02;
    o.drift.ph_lambda = 10;
    OnlineTrainer online(model, trainer, o);
    DriftRecorder recorder;
    online.run(source, {&recorder});
    ASSERT_FALSE(recorder.events.empty()) << model.metadata().at(kDriftStateKey);
    const DriftEvent* first = nullptr;
    for (const DriftEvent& e : recorder.events) {
      if (e.offset >= kDriftAt && first == nullptr) first = &e;
    }
    ASSERT_NE(first, nullptr) << drift_detector_name(kind);
    EXPECT_LT(first->offset, kDriftAt + 1000) << drift_detector_name(kind);
    EXPECT_EQ(first->detector, drift_detector_name(kind));
    EXPECT_GT(first->error, 0.0) << drift_detector_name(kind);
    std::printf("[ figures  ] %s: first drift after the change at offset %lld (delay %lld), %zu drifts\n",
                drift_detector_name(kind).c_str(), static_cast<long long>(first->offset),
                static_cast<long long>(first->offset - kDriftAt), recorder.events.size());
  }
}

TEST(OnlineDrift, ARestartFromTheCheckpointNeitherRealarmsNorForgets) {
  // One run over the whole stream...
  const std::string whole_path = temp_path("drift-whole");
  data::InMemorySource whole = sea_source(0, kRecords);
  model::Model whole_model = sea_model();
  Trainer whole_trainer(whole_model, sea_train_options());
  OnlineTrainer whole_online(whole_model, whole_trainer, drift_options(whole_path));
  DriftRecorder whole_recorder;
  whole_online.run(whole, {&whole_recorder});
  ASSERT_FALSE(whole_recorder.events.empty());

  // ... and the same stream in two runs, stopped right after the first alarm
  // (at a checkpoint: 10 batches of 32 records), restarted from the file.
  const int64_t alarm = whole_recorder.events.front().offset;
  const int64_t split = (alarm / 320 + 1) * 320;
  const std::string path = temp_path("drift-split");
  std::vector<DriftEvent> events;
  {
    data::InMemorySource first = sea_source(0, split);
    model::Model model = sea_model();
    Trainer trainer(model, sea_train_options());
    OnlineTrainer online(model, trainer, drift_options(path));
    DriftRecorder recorder;
    online.run(first, {&recorder});
    events = recorder.events;
  }
  ASSERT_FALSE(events.empty());
  {
    model::Model model = model::Model::load(path);
    ASSERT_EQ(model.offsets().at(0).offset, split);
    ASSERT_TRUE(model.metadata().count(kDriftStateKey));
    Trainer trainer(model, sea_train_options());
    OnlineTrainer online(model, trainer, drift_options(path));
    data::InMemorySource second = sea_source(split, kRecords);
    DriftRecorder recorder;
    OnlineResult result = online.run(second, {&recorder});
    events.insert(events.end(), recorder.events.begin(), recorder.events.end());
    // The evaluation goes on where it stopped.
    EXPECT_EQ(result.prequential.at("preq_records"), kRecords - 32);
  }
  // The same alarms at the same records, numbered on.
  ASSERT_EQ(events.size(), whole_recorder.events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].offset, whole_recorder.events[i].offset) << i;
    EXPECT_EQ(events[i].drifts, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(events[i].record, whole_recorder.events[i].record);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(whole_path);
}

TEST(OnlineDrift, BoostLrRaisesTheLearningRateForNBatchesAfterADrift) {
  data::InMemorySource source = sea_source(0, kRecords);
  model::Model model = sea_model();
  Trainer trainer(model, sea_train_options());
  OnlineOptions o = drift_options();
  o.on_drift = parse_drift_action("boost-lr=4:5");
  OnlineTrainer online(model, trainer, o);
  DriftRecorder recorder(&trainer);
  online.run(source, {&recorder});
  ASSERT_FALSE(recorder.events.empty());
  const int64_t batch = recorder.events.front().offset / 32;  // the batch of the first alarm, 0-based
  // learning_rates[b]: the rate after batch b's step and its drift action.
  EXPECT_DOUBLE_EQ(recorder.learning_rates.at(batch - 1), 0.01);
  // Boosted for the 5 batches after the alarm's, back after the 5th.
  for (int64_t b = batch; b < batch + 5; ++b) EXPECT_DOUBLE_EQ(recorder.learning_rates.at(b), 0.04) << b;
  if (recorder.events.size() == 1 || recorder.events[1].offset / 32 > batch + 6) {
    EXPECT_DOUBLE_EQ(recorder.learning_rates.at(batch + 5), 0.01);
  }
  EXPECT_DOUBLE_EQ(trainer.options().learning_rate, recorder.learning_rates.back());
}

// Each action runs on the alarm, keeps the feature statistics and offsets,
// and the model learns the new concept (BENCHMARKS.md measures how soon).
TEST(OnlineDrift, ResettingActionsRecoverAndKeepTheStatistics) {
  for (const char* action : {"reset-model", "retrain-window=256", "reset-optimizer"}) {
    data::InMemorySource source = sea_source(0, kRecords);
    model::Model model = sea_model();
    Trainer trainer(model, sea_train_options());
    OnlineOptions o = drift_options();
    o.on_drift = parse_drift_action(action);
    OnlineTrainer online(model, trainer, o);
    DriftRecorder recorder;
    OnlineResult result = online.run(source, {&recorder});
    ASSERT_FALSE(recorder.events.empty()) << action;
    EXPECT_EQ(recorder.events.front().action, action);
    EXPECT_TRUE(model.has_stats());
    EXPECT_EQ(model.offsets().at(0).offset, kRecords);
    EXPECT_GT(result.prequential.at("preq_accuracy"), 0.8) << action;
  }
}

// Prequential metrics of every task, from the training step's own forward
// pass and from a separate prediction (predict on): the same numbers.
TEST(OnlineDrift, EveryTaskIsEvaluatedAndTheStepsForwardPassEqualsASeparatePrediction) {
  using streamml::testing::SyntheticTask;
  struct Case {
    SyntheticTask synthetic;
    model::Task task;
    const char* metric;
  };
  for (const Case& c : {Case{SyntheticTask::kBinary, model::Task::binary(), "preq_auc"},
                        Case{SyntheticTask::kMulticlass3, model::Task::multiclass(3), "preq_accuracy"},
                        Case{SyntheticTask::kRegression, model::Task::regression(), "preq_rmse"}}) {
    Metrics results[2];
    for (int separate = 0; separate < 2; ++separate) {
      auto d = streamml::testing::make_dataset(c.synthetic, 1280, 5);
      data::InMemorySource source(d.features, d.num_features, d.labels, 1,
                                  data::InMemorySourceOptions{.batch_size = 64});
      model::ModelConfig config;
      config.task = c.task;
      config.features.num_features = d.num_features;
      config.spec = model::parse_model_spec("mlp:8");
      model::Model model = model::Model::create(config);
      TrainOptions options;
      options.stats_mode = StatsMode::kFirstBatch;
      Trainer trainer(model, options);
      OnlineOptions o;
      o.predict = separate == 1;
      OnlineTrainer online(model, trainer, o);
      results[separate] = online.run(source).prequential;
    }
    EXPECT_EQ(results[0].at("preq_records"), 1280 - 64) << c.task.to_string();
    EXPECT_EQ(results[0].count(c.metric), 1u) << c.task.to_string();
    EXPECT_EQ(results[0].count("preq_faded_loss"), 1u) << c.task.to_string();
    EXPECT_EQ(results[0], results[1]) << c.task.to_string();
  }
}

TEST(OnlineDrift, EvaluationOffLeavesNoMetricsAndADetectorNeedsIt) {
  data::InMemorySource source = sea_source(0, 640);
  model::Model model = sea_model();
  Trainer trainer(model, sea_train_options());
  OnlineOptions o;
  o.evaluate = false;
  OnlineTrainer online(model, trainer, o);
  DriftRecorder recorder;
  OnlineResult result = online.run(source, {&recorder});
  EXPECT_TRUE(result.prequential.empty());
  EXPECT_EQ(recorder.last_logs.count("preq_accuracy"), 0u);
  o.drift.kind = DriftDetectorKind::kAdwin;
  EXPECT_THROW(OnlineTrainer(model, trainer, o), ConfigError);
  o = {};
  o.auc_every = 0;
  EXPECT_THROW(OnlineTrainer(model, trainer, o), ConfigError);
}

}  // namespace
}  // namespace streamml::train
