// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/train/lambda_callback.h"
#include "streamml/train/model_checkpoint.h"
#include "unit/model/synthetic.h"

namespace streamml::train {
namespace {

namespace fs = std::filesystem;
using data::InMemorySource;
using model::Model;
using model::Task;
using streamml::testing::Dataset;
using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;
using streamml::testing::to_batch;

InMemorySource source_of(const Dataset& d, size_t batch_size = 32, bool shuffle = true) {
  return InMemorySource::from_batch(to_batch(d), {.batch_size = batch_size, .shuffle = shuffle, .seed = 1});
}

Model new_model(Task task, const std::string& spec = "mlp:32,16", size_t num_features = 6) {
  model::ModelConfig c;
  c.task = task;
  c.features.num_features = num_features;
  c.spec = model::parse_model_spec(spec);
  return Model::create(c);
}

std::string input_error(auto&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

TEST(Trainer, LearnsBinaryTask) {
  InMemorySource train = source_of(make_dataset(SyntheticTask::kBinary, 2000, 1));
  InMemorySource test = source_of(make_dataset(SyntheticTask::kBinary, 1000, 2), 256, false);
  Model m = new_model(Task::binary());
  TrainOptions o;
  o.epochs = 15;
  o.learning_rate = 3e-3;
  History h = fit(m, train, o);
  EXPECT_EQ(h.epochs_run, 15);
  EXPECT_EQ(h.records, 15 * 2000);
  EXPECT_LT(h.epochs.back().at("loss"), h.epochs.front().at("loss"));
  ASSERT_TRUE(m.has_stats());  // computed from the training data
  EXPECT_NEAR(m.stats().mean[3], 15.0f, 0.2f);  // feature 3 = z + 15
  EXPECT_NEAR(m.stats().std[5], 100.0f, 10.0f);  // feature 5 = 100 z + 25
  Metrics held_out = evaluate(m, test);
  EXPECT_GE(held_out.at("accuracy"), 0.95) << held_out.at("loss");
  EXPECT_GE(held_out.at("auc"), 0.98);
  EXPECT_EQ(held_out.at("records"), 1000);
}

TEST(Trainer, LearnsMulticlassTaskWithValidation) {
  InMemorySource train = source_of(make_dataset(SyntheticTask::kMulticlass3, 3000, 3));
  InMemorySource validation = source_of(make_dataset(SyntheticTask::kMulticlass3, 1000, 4), 256, false);
  Model m = new_model(Task::multiclass(3));
  TrainOptions o;
  o.epochs = 15;
  o.optimizer = OptimizerKind::kAdamW;
  o.learning_rate = 3e-3;
  o.weight_decay = 1e-4;
  History h = fit(m, train, o, &validation);
  ASSERT_EQ(h.epochs.size(), 15u);
  // Validation ran every epoch (reset between rounds, so always 1000 records).
  EXPECT_GE(h.epochs.back().at("val_accuracy"), 0.93);
  EXPECT_GT(h.epochs.back().at("val_accuracy"), h.epochs.front().at("val_accuracy") - 1e-9);
  validation.reset();
  EXPECT_EQ(evaluate(m, validation).at("records"), 1000);
}

TEST(Trainer, LearnsRegressionTask) {
  Dataset train_data = make_dataset(SyntheticTask::kRegression, 3000, 5);
  InMemorySource train = source_of(train_data);
  InMemorySource test = source_of(make_dataset(SyntheticTask::kRegression, 1000, 6), 256, false);
  Model m = new_model(Task::regression());
  TrainOptions o;
  o.epochs = 30;
  o.learning_rate = 1e-2;
  fit(m, train, o);
  Metrics metrics = evaluate(m, test);
  const double sd = streamml::testing::label_std(train_data);
  EXPECT_LT(metrics.at("rmse"), 0.25 * sd) << "label std " << sd;
  EXPECT_LT(metrics.at("mae"), metrics.at("rmse") + 1e-9);
}

TEST(Trainer, SgdWithMomentumLearnsToo) {
  InMemorySource train = source_of(make_dataset(SyntheticTask::kBinary, 1000, 7));
  Model m = new_model(Task::binary(), "linear");
  TrainOptions o;
  o.optimizer = OptimizerKind::kSgd;
  o.learning_rate = 0.1;
  o.momentum = 0.9;
  o.epochs = 5;
  History h = fit(m, train, o);
  EXPECT_GE(h.epochs.back().at("accuracy"), 0.95);
}

TEST(Trainer, SeededRunsRepeatExactly) {
  auto run = [] {
    InMemorySource train = source_of(make_dataset(SyntheticTask::kBinary, 500, 8));
    Model m = new_model(Task::binary(), "mlp:16;dropout=0.2");
    TrainOptions o;
    o.epochs = 3;
    History h = fit(m, train, o);
    return std::make_pair(h.epochs.back().at("loss"),
                          m.predict(to_batch(make_dataset(SyntheticTask::kBinary, 50, 9))).values);
  };
  auto [loss_a, pred_a] = run();
  auto [loss_b, pred_b] = run();
  EXPECT_EQ(loss_a, loss_b);
  EXPECT_EQ(pred_a, pred_b);
}

TEST(Trainer, BadLabelsAreInputErrorsNamingTheRecord) {
  Dataset d = make_dataset(SyntheticTask::kBinary, 100, 10);
  d.labels[37] = 0.5f;
  InMemorySource binary = InMemorySource::from_batch(to_batch(d, "clicks"), {.batch_size = 16});
  Model m = new_model(Task::binary());
  TrainOptions o;
  o.epochs = 1;
  std::string message = input_error([&] { fit(m, binary, o); });
  EXPECT_NE(message.find("clicks:0:37"), std::string::npos) << message;
  EXPECT_NE(message.find("0.5"), std::string::npos) << message;

  Dataset k = make_dataset(SyntheticTask::kMulticlass3, 100, 11);
  k.labels[80] = 7.0f;
  InMemorySource multi = InMemorySource::from_batch(to_batch(k, "events"), {.batch_size = 16});
  Model mm = new_model(Task::multiclass(3));
  message = input_error([&] { fit(mm, multi, o); });
  EXPECT_NE(message.find("events:0:80"), std::string::npos) << message;
  EXPECT_NE(message.find("label 7"), std::string::npos) << message;
}

TEST(Trainer, SourceOfWrongWidthIsConfigError) {
  InMemorySource train = source_of(make_dataset(SyntheticTask::kBinary, 10, 1, /*num_features=*/4));
  Model m = new_model(Task::binary());
  EXPECT_THROW(fit(m, train, {}), ConfigError);
  EXPECT_THROW(Trainer(m, TrainOptions{.learning_rate = -1}), ConfigError);
}

TEST(Trainer, TrainStepOnlineTakesStatsFromFirstBatchAndAdvancesOffsets) {
  Dataset d = make_dataset(SyntheticTask::kBinary, 1200, 12);
  data::Batch all = to_batch(d, "stream");
  Model m = new_model(Task::binary());
  Trainer trainer(m, TrainOptions{.learning_rate = 1e-2});
  std::vector<double> losses;
  model::FeatureStats first_stats;
  for (size_t start = 0; start < all.size; start += 40) {
    data::Batch batch;
    batch.num_features = 6;
    batch.num_labels = 1;
    for (size_t r = start; r < start + 40; ++r) {
      batch.features.insert(batch.features.end(), all.row(r), all.row(r) + 6);
      batch.labels.push_back(all.labels[r]);
      batch.meta.push_back(all.meta[r]);
      ++batch.size;
    }
    Metrics step = trainer.train_step(batch);
    if (start == 0) first_stats = m.stats();
    losses.push_back(step.at("loss"));
  }
  EXPECT_EQ(trainer.steps(), 30);
  EXPECT_EQ(m.stats(), first_stats);  // fixed after the first batch
  const double first = (losses[0] + losses[1] + losses[2] + losses[3] + losses[4]) / 5;
  const double last = (losses[25] + losses[26] + losses[27] + losses[28] + losses[29]) / 5;
  EXPECT_LT(last, first * 0.6);
  ASSERT_EQ(m.offsets().size(), 1u);
  EXPECT_EQ(m.offsets()[0], (kafka::TopicPartitionOffset{"stream", 0, 1200}));
}

TEST(Trainer, EarlyStoppingStopsWhenTheMonitoredMetricStalls) {
  // Random labels: validation loss cannot improve for long.
  Dataset d = make_dataset(SyntheticTask::kBinary, 400, 13);
  Dataset v = make_dataset(SyntheticTask::kBinary, 400, 14);
  for (size_t i = 0; i < d.rows(); ++i) d.labels[i] = static_cast<float>((i * 7919) % 2);
  for (size_t i = 0; i < v.rows(); ++i) v.labels[i] = static_cast<float>((i * 104729 / 3) % 2);
  InMemorySource train = source_of(d);
  InMemorySource validation = source_of(v, 128, false);
  Model m = new_model(Task::binary(), "mlp:64,64");
  TrainOptions o;
  o.epochs = 100;
  o.learning_rate = 1e-2;
  o.patience = 2;
  History h = fit(m, train, o, &validation);
  EXPECT_TRUE(h.stopped_early);
  EXPECT_LT(h.epochs_run, 100);
  EXPECT_NE(h.stop_reason.find("val_loss"), std::string::npos) << h.stop_reason;
  // The last `patience` epochs did not beat the best one before them.
  double best_before = 1e9;
  for (int e = 0; e < h.epochs_run - 2; ++e) best_before = std::min(best_before, h.epochs[e].at("val_loss"));
  for (int e = h.epochs_run - 2; e < h.epochs_run; ++e) EXPECT_GE(h.epochs[e].at("val_loss"), best_before);
}

TEST(Trainer, MaxStepsAndRequestStop) {
  InMemorySource train = source_of(make_dataset(SyntheticTask::kBinary, 320, 15), 32);
  Model m = new_model(Task::binary());
  History h = fit(m, train, TrainOptions{.epochs = 5, .max_steps = 13});
  EXPECT_EQ(h.steps, 13);
  EXPECT_TRUE(h.stopped_early);

  Trainer trainer(m, TrainOptions{.epochs = 5});
  LambdaCallback stopper;
  stopper.batch_end = [&](TrainContext& context, int64_t step, const Logs&) {
    if (step == 4) trainer.request_stop();
  };
  train.reset();
  History stopped = trainer.fit(train, nullptr, {&stopper});
  EXPECT_EQ(stopped.steps, 4);
  EXPECT_EQ(stopped.stop_reason, "stop requested");
}

TEST(Trainer, CallbacksSeeEventsInOrder) {
  InMemorySource train = source_of(make_dataset(SyntheticTask::kBinary, 100, 16), 50);
  Model m = new_model(Task::binary());
  std::vector<std::string> events;
  LambdaCallback cb;
  cb.train_begin = [&](TrainContext& c) { events.push_back("train_begin"); };
  cb.epoch_begin = [&](TrainContext&, int e) { events.push_back("epoch_begin " + std::to_string(e)); };
  cb.batch_begin = [&](TrainContext&, int64_t s) { events.push_back("batch_begin " + std::to_string(s)); };
  cb.batch_end = [&](TrainContext&, int64_t s, const Logs& logs) {
    events.push_back("batch_end " + std::to_string(s));
    EXPECT_EQ(logs.at("batch_size"), 50);
    EXPECT_TRUE(logs.count("loss"));
  };
  cb.epoch_end = [&](TrainContext& c, int e, const Logs& logs) {
    events.push_back("epoch_end " + std::to_string(e));
    EXPECT_EQ(c.steps_per_epoch, 2);
    EXPECT_TRUE(logs.count("auc"));
  };
  cb.train_end = [&](TrainContext&, const Logs&) { events.push_back("train_end"); };
  fit(m, train, TrainOptions{.epochs = 2}, nullptr, {&cb});
  EXPECT_EQ(events, (std::vector<std::string>{
                        "train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 1",
                        "batch_begin 1", "batch_end 2", "epoch_end 0", "epoch_begin 1",
                        "batch_begin 2", "batch_end 3", "batch_begin 3", "batch_end 4",
                        "epoch_end 1", "train_end"}));

  // Prediction loop.
  int rows = 0;
  LambdaCallback predict_cb;
  predict_cb.predict_batch_end = [&](const data::Batch& b, const model::Predictions& p) {
    EXPECT_EQ(b.size, p.size);
    rows += static_cast<int>(p.size);
  };
  train.reset();
  EXPECT_EQ(predict(m, train, {&predict_cb}), 100);
  EXPECT_EQ(rows, 100);
}

TEST(Trainer, ResumesFromSavedModelWithOptimizerState) {
  const std::string path =
      (fs::temp_directory_path() / ("streamml_resume_" + std::to_string(::getpid()) + ".model")).string();
  Dataset d = make_dataset(SyntheticTask::kBinary, 600, 17);
  InMemorySource train = source_of(d);
  Model m = new_model(Task::binary());
  ModelCheckpoint checkpoint(CheckpointOptions{.path = path});
  fit(m, train, TrainOptions{.epochs = 2}, nullptr, {&checkpoint});
  // Each epoch end; the train end is the same step as the last epoch end.
  EXPECT_EQ(checkpoint.saves(), 2);
  Model loaded = Model::load(path);
  EXPECT_EQ(loaded.optimizer_kind(), "adam");
  EXPECT_EQ(loaded.metadata().at("checkpoint_epoch"), "2");

  // The same next step on the original and the loaded model (same optimizer
  // state) gives the same weights.
  data::Batch batch = to_batch(make_dataset(SyntheticTask::kBinary, 64, 18));
  Trainer t1(m, TrainOptions{});
  Trainer t2(loaded, TrainOptions{});
  t1.train_step(batch);
  t2.train_step(batch);
  EXPECT_EQ(m.predict(batch).values, loaded.predict(batch).values);
  fs::remove(path);
}

}  // namespace
}  // namespace streamml::train
