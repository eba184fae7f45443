// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Training and prediction throughput from memory: the baseline that
// Kafka-backed sources are compared with. Items are records.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "streamml/common/logging.h"
#include "synthetic_batch.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/model/model.h"
#include "streamml/train/trainer.h"

namespace {

using streamml::data::Batch;
using streamml::data::InMemorySource;
using streamml::model::Model;

constexpr size_t kFeatures = 16;

Batch make_batch(size_t rows, uint64_t seed) {
  return streamml::bench::synthetic_binary_batch(rows, kFeatures, seed);
}

Model make_model() {
  streamml::model::ModelConfig c;
  c.task = streamml::model::Task::binary();
  c.features.num_features = kFeatures;
  c.spec = streamml::model::parse_model_spec("mlp:64,32");
  return Model::create(c);
}

// One epoch over 20k in-memory records; arg: batch size.
void BM_FitEpochFromMemory(benchmark::State& state) {
  streamml::set_log_level(streamml::LogLevel::kWarn);
  const auto batch_size = static_cast<size_t>(state.range(0));
  InMemorySource source = InMemorySource::from_batch(make_batch(20000, 1), {.batch_size = batch_size});
  Model model = make_model();
  streamml::train::TrainOptions options;
  options.epochs = 1;
  streamml::train::Trainer trainer(model, options);
  for (auto _ : state) {
    source.reset();
    benchmark::DoNotOptimize(trainer.fit(source));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 20000);
}
BENCHMARK(BM_FitEpochFromMemory)->Arg(32)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);

// A single online step; arg: batch size.
void BM_TrainStep(benchmark::State& state) {
  streamml::set_log_level(streamml::LogLevel::kWarn);
  const Batch batch = make_batch(static_cast<size_t>(state.range(0)), 2);
  Model model = make_model();
  streamml::train::Trainer trainer(model, {});
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step(batch));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_TrainStep)->Arg(1)->Arg(32)->Arg(256);

// Prediction latency/throughput; arg: batch size.
void BM_Predict(benchmark::State& state) {
  const Batch batch = make_batch(static_cast<size_t>(state.range(0)), 3);
  Model model = make_model();
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(batch));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Predict)->Arg(1)->Arg(32)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
