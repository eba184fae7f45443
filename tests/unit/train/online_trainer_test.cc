// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/online_trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/model/model.h"
#include "streamml/train/kafka_callbacks.h"
#include "unit/model/synthetic.h"

namespace streamml::train {
namespace {

using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;

// A stream of `rows` rows in batches of `batch`, with Kafka-like metadata
// (topic "t", partition 0, offset = row), that records what happened at each
// commit() (rows returned so far, and the checkpoint's state then).
class RecordingSource final : public data::BatchSource {
 public:
  RecordingSource(size_t rows, size_t batch, std::string checkpoint)
      : checkpoint_(std::move(checkpoint)) {
    auto d = make_dataset(SyntheticTask::kBinary, rows, 3);
    std::vector<data::RecordMeta> meta;
    for (size_t i = 0; i < rows; ++i) meta.push_back(streamml::testing::record_at("t", 0, static_cast<int64_t>(i)));
    source_ = std::make_unique<data::InMemorySource>(d.features, d.num_features, d.labels, 1,
                                                     data::InMemorySourceOptions{.batch_size = batch}, meta);
  }
  std::optional<data::Batch> next() override {
    auto batch = source_->next();
    if (batch) returned_ += static_cast<int64_t>(batch->size);
    return batch;
  }
  void reset() override { throw ConfigError("a stream has no epochs"); }
  void commit() override {
    Commit c{returned_, -1};
    if (!checkpoint_.empty() && std::filesystem::exists(checkpoint_)) {
      const auto offsets = model::Model::load(checkpoint_).offsets();  // a copy: the model is a temporary
      c.checkpoint_offset = offsets.empty() ? -1 : offsets[0].offset;
    }
    commits.push_back(c);
  }
  size_t num_features() const override { return source_->num_features(); }
  size_t num_labels() const override { return 1; }
  std::vector<std::string> feature_names() const override { return source_->feature_names(); }

  struct Commit {
    int64_t returned;           // rows returned when commit() was called
    int64_t checkpoint_offset;  // the checkpoint's next offset of t:0 then
  };
  std::vector<Commit> commits;

 private:
  std::unique_ptr<data::InMemorySource> source_;
  std::string checkpoint_;
  int64_t returned_ = 0;
};

model::Model make_model() {
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features.num_features = 6;
  config.spec = model::parse_model_spec("mlp:8");
  return model::Model::create(config);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".smlm")).string();
}

TEST(OnlineTrainer, CommitsOnlyRightAfterEachCheckpointWithMatchingOffsets) {
  const std::string path = temp_path("online-ckpt");
  std::filesystem::remove(path);
  RecordingSource source(/*rows=*/100, /*batch=*/10, path);
  model::Model model = make_model();
  TrainOptions options;
  options.stats_mode = StatsMode::kFirstBatch;
  Trainer trainer(model, options);
  OnlineTrainer online(model, trainer, OnlineOptions{path, /*checkpoint_every=*/3});
  OnlineResult result = online.run(source);
  EXPECT_EQ(result.batches, 10);
  EXPECT_EQ(result.records, 100);
  EXPECT_EQ(result.checkpoints, 4);  // after batches 3, 6, 9 and the last one
  ASSERT_EQ(source.commits.size(), 4u);
  const int64_t expected[] = {30, 60, 90, 100};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(source.commits[i].returned, expected[i]);
    EXPECT_EQ(source.commits[i].checkpoint_offset, expected[i]) << "the group never gets ahead of the checkpoint";
  }
  model::Model saved = model::Model::load(path);
  EXPECT_EQ(saved.metadata().at(kOnlineRecordsKey), "100");
  std::filesystem::remove(path);
}

TEST(OnlineTrainer, RecordCountAccumulatesOverRunsAndMaxBatchesStops) {
  const std::string path = temp_path("online-count");
  model::Model model = make_model();
  model.set_metadata(kOnlineRecordsKey, "40");
  TrainOptions options;
  Trainer trainer(model, options);
  RecordingSource source(50, 5, "");
  OnlineTrainer online(model, trainer, OnlineOptions{path, 2, /*max_batches=*/3});
  OnlineResult result = online.run(source);
  EXPECT_EQ(result.batches, 3);
  EXPECT_EQ(model.metadata().at(kOnlineRecordsKey), "55");
  EXPECT_EQ(model::Model::load(path).metadata().at(kOnlineRecordsKey), "55");
  EXPECT_EQ(model.offsets().at(0).offset, 15);
  std::filesystem::remove(path);
}

TEST(OnlineTrainer, WithoutCheckpointPathCommitsEveryBatch) {
  RecordingSource source(30, 10, "");
  model::Model model = make_model();
  Trainer trainer(model, TrainOptions{});
  OnlineTrainer online(model, trainer, OnlineOptions{});
  online.run(source);
  ASSERT_EQ(source.commits.size(), 3u);
  EXPECT_EQ(source.commits[2].returned, 30);
}

// Counts predictions and checks they come before the batch is trained.
class PredictionCounter final : public Callback {
 public:
  explicit PredictionCounter(model::Model& model) : model_(model) {}
  void on_predict_batch_end(const data::Batch& batch, const model::Predictions& predictions) override {
    EXPECT_EQ(predictions.size, batch.size);
    // The model has not trained on this batch yet (test-then-train), except
    // for the very first batch, which provides the statistics.
    int64_t trained_up_to = model_.offsets().empty() ? 0 : model_.offsets()[0].offset;
    if (rows_ > 0) {
      EXPECT_EQ(trained_up_to, batch.meta.front().offset);
    }
    rows_ += static_cast<int64_t>(batch.size);
  }
  int64_t rows_ = 0;

 private:
  model::Model& model_;
};

TEST(OnlineTrainer, PredictsEachBatchBeforeTrainingIt) {
  RecordingSource source(40, 8, "");
  model::Model model = make_model();
  Trainer trainer(model, TrainOptions{});
  OnlineOptions options;
  options.predict = true;
  OnlineTrainer online(model, trainer, options);
  PredictionCounter counter(model);
  online.run(source, {&counter});
  EXPECT_EQ(counter.rows_, 40);
}

TEST(OnlineTrainer, InvalidOptionsNameTheOption) {
  model::Model model = make_model();
  Trainer trainer(model, TrainOptions{});
  try {
    OnlineTrainer online(model, trainer, OnlineOptions{"x.smlm", 0});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint-every 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(OnlineTrainer(model, trainer, OnlineOptions{"x.smlm", 1, -1}), ConfigError);
}

TEST(KafkaCallbacks, SourceHeadersAndEncodings) {
  data::RecordMeta meta;
  meta.topic = "in";
  meta.partition = 2;
  meta.offset = 41;
  kafka::Headers headers = source_headers(meta);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], (kafka::Header{data::kHeaderSourceTopic, "in"}));
  EXPECT_EQ(headers[1], (kafka::Header{data::kHeaderSourcePartition, "2"}));
  EXPECT_EQ(headers[2], (kafka::Header{data::kHeaderSourceOffset, "41"}));
  EXPECT_EQ(parse_prediction_encoding("csv"), PredictionEncoding::kCsv);
  EXPECT_EQ(parse_prediction_encoding("json"), PredictionEncoding::kJson);
  EXPECT_THROW(parse_prediction_encoding("xml"), ConfigError);
  EXPECT_THROW(KafkaPredictionsCallback(KafkaPredictionsOptions{}), ConfigError);
  EXPECT_THROW(KafkaMetricsCallback(KafkaMetricsOptions{}), ConfigError);
}

}  // namespace
}  // namespace streamml::train
