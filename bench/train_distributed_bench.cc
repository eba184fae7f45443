// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Distributed data-parallel training (train/distributed.h): the same
// training run with 1 rank (one process, no group) and with 2 ranks (two
// threads of this process, each its own c10d Gloo process group over
// loopback, each one intra-op thread), from memory so that Kafka does not
// take part. Both ranks read half of the records with the same batch size
// per rank, so a step of 2 ranks trains twice the records.
//
// Reports records/s, the scaling efficiency (2-rank throughput / twice the
// 1-rank throughput), the gradient all-reduce time per step and the bytes
// each rank sums per step, for a small and a larger network.
//
// bench-runs: 3
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <vector>

#include "streamml/common/logging.h"
#include "synthetic_batch.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/model/model.h"
#include "streamml/train/distributed.h"
#include "streamml/train/trainer.h"

namespace {

using streamml::data::Batch;
using streamml::data::InMemorySource;
using streamml::model::Model;
using namespace streamml::train;
using Clock = std::chrono::steady_clock;

constexpr size_t kFeatures = 16;
constexpr size_t kRecords = 120000;
constexpr size_t kBatch = 256;

Batch make_batch(size_t first, size_t rows) {
  return streamml::bench::synthetic_binary_batch(rows, kFeatures, first + 1);
}

Model new_model(const std::string& spec) {
  streamml::model::ModelConfig c;
  c.task = streamml::model::Task::binary();
  c.features.num_features = kFeatures;
  c.spec = streamml::model::parse_model_spec(spec);
  c.seed = 1;
  return Model::create(c);
}

TrainOptions options() {
  TrainOptions o;
  o.epochs = 1;
  o.learning_rate = 1e-3;
  return o;
}

struct Run {
  double seconds = 0;
  int64_t steps = 0;
  CollectiveStats stats;
};

Run one_rank(const std::string& spec, const Batch& all) {
  Model m = new_model(spec);
  InMemorySource source = InMemorySource::from_batch(all, {.batch_size = kBatch});
  const auto start = Clock::now();
  History h = fit(m, source, options());
  return {std::chrono::duration<double>(Clock::now() - start).count(), h.steps, {}};
}

Run two_ranks(const std::string& spec, const Batch& halves0, const Batch& halves1, int port) {
  Run runs[2];
  auto rank = [&](int r) {
    DistributedOptions o;
    o.world_size = 2;
    o.rank = r;
    o.port = static_cast<uint16_t>(port);
    ProcessGroup group(o);
    Model m = new_model(spec);
    group.broadcast_model(m);
    InMemorySource source = InMemorySource::from_batch(r == 0 ? halves0 : halves1, {.batch_size = kBatch});
    Trainer trainer(m, options());
    trainer.set_process_group(&group);
    group.barrier("start");
    const auto start = Clock::now();
    History h = trainer.fit(source);
    runs[r] = {std::chrono::duration<double>(Clock::now() - start).count(), h.steps, group.stats()};
  };
  auto f0 = std::async(std::launch::async, rank, 0);
  auto f1 = std::async(std::launch::async, rank, 1);
  f0.get();
  f1.get();
  return runs[0].seconds > runs[1].seconds ? runs[0] : runs[1];
}

}  // namespace

int main() {
  streamml::set_log_level(streamml::LogLevel::kWarn);
  torch::set_num_threads(1);  // one intra-op thread per rank: 2 ranks fill the 2 cores
  const Batch all = make_batch(0, kRecords);
  const Batch half0 = make_batch(0, kRecords / 2), half1 = make_batch(kRecords / 2, kRecords / 2);
  int port = 29650;
  std::printf("%-14s %8s %12s %12s %10s %14s %12s\n", "model", "params", "1rank_rec/s", "2rank_rec/s", "efficiency",
              "allreduce_ms", "bytes/step");
  for (const std::string spec : {"mlp:64,32", "mlp:512,512"}) {
    const Run one = one_rank(spec, all);
    const Run two = two_ranks(spec, half0, half1, port++);
    const double r1 = static_cast<double>(kRecords) / one.seconds;
    const double r2 = static_cast<double>(kRecords) / two.seconds;
    const double steps = static_cast<double>(two.stats.gradient_reductions);
    const double allreduce_ms = 1000.0 * two.stats.gradient_seconds / steps;
    const double bytes = static_cast<double>(two.stats.gradient_bytes) / steps;
    const int64_t params = new_model(spec).num_parameters();
    std::printf("%-14s %8lld %12.0f %12.0f %10.2f %14.3f %12.0f\n", spec.c_str(), static_cast<long long>(params), r1,
                r2, r2 / (2 * r1), allreduce_ms, bytes);
    const std::string key = spec == "mlp:64,32" ? "small" : "large";
    std::printf("RESULT distributed_%s params=%lld batch_per_rank=%zu records=%zu rank1_rec_per_s=%.0f "
                "rank2_rec_per_s=%.0f efficiency=%.3f allreduce_ms_per_step=%.3f allreduce_share=%.3f "
                "bytes_per_step=%.0f\n",
                key.c_str(), static_cast<long long>(params), kBatch, kRecords, r1, r2, r2 / (2 * r1), allreduce_ms,
                two.stats.gradient_seconds / two.seconds, bytes);
  }
  return 0;
}
