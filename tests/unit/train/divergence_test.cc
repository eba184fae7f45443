// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// A diverged run (far too large a learning rate) stops with DivergenceError
// naming the epoch and batch, and its non-finite weights are never saved:
// not by fit()'s caller, not by an online checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "streamml/data/in_memory_source.h"
#include "streamml/train/online_trainer.h"
#include "streamml/train/trainer.h"
#include "support/temp_dir.h"
#include "unit/model/synthetic.h"

namespace streamml::train {
namespace {

using data::InMemorySource;
using model::Model;
using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;
using streamml::testing::to_batch;

Model new_model() {
  model::ModelConfig c;
  c.task = model::Task::binary();
  c.features.num_features = 6;
  c.spec = model::parse_model_spec("mlp:32,16");
  return Model::create(c);
}

TEST(Divergence, FitStopsAtTheFirstNonFiniteLossNamingEpochAndBatch) {
  InMemorySource train = InMemorySource::from_batch(to_batch(make_dataset(SyntheticTask::kBinary, 2000, 1)),
                                                    {.batch_size = 32, .shuffle = false, .seed = 1});
  Model m = new_model();
  TrainOptions o;
  o.epochs = 3;
  o.learning_rate = 1e30;
  std::string message;
  try {
    fit(m, train, o);
  } catch (const DivergenceError& e) {
    message = e.what();
  }
  ASSERT_FALSE(message.empty()) << "fit() of a diverging run returned normally";
  EXPECT_NE(message.find("epoch 1 batch "), std::string::npos) << message;
  EXPECT_NE(message.find("diverged"), std::string::npos) << message;
}

TEST(Divergence, OnlineTrainingNeverCheckpointsNonFiniteWeights) {
  streamml::testing::TempDir dir;
  const std::string path = dir / "online.smlm";
  InMemorySource stream = InMemorySource::from_batch(to_batch(make_dataset(SyntheticTask::kBinary, 640, 2)),
                                                     {.batch_size = 32, .shuffle = false, .seed = 1});
  Model m = new_model();
  TrainOptions o;
  o.learning_rate = 1e30;
  o.stats_mode = StatsMode::kFirstBatch;
  Trainer trainer(m, o);
  OnlineTrainer online(m, trainer, {.checkpoint_path = path, .checkpoint_every = 1});
  EXPECT_THROW(online.run(stream), DivergenceError);
  if (std::filesystem::exists(path)) {
    Model saved = Model::load(path);
    EXPECT_TRUE(has_finite_weights(saved)) << "a checkpoint with non-finite weights was written";
  }
}

}  // namespace
}  // namespace streamml::train
