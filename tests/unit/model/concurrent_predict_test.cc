// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Models used from several threads at once (one model per thread, as two
// servers or two trainers in one process): each thread's predictions are
// exactly what one thread alone computes. They share only LibTorch and the
// system BLAS; Debian's single-threaded OpenBLAS (libopenblas0-serial) gets
// about 1% of concurrent sgemm calls wrong, which this test catches
// (scripts/deps.sh installs the threaded, thread-safe build).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "streamml/model/model.h"
#include "unit/model/synthetic.h"

namespace streamml::model {
namespace {

using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;
using streamml::testing::to_batch;

Model mlp() {
  ModelConfig c;
  c.task = Task::binary();
  c.features.num_features = 6;
  c.spec = parse_model_spec("mlp:16,8");
  c.seed = 3;
  return Model::create(c);
}

TEST(ConcurrentModels, EveryThreadGetsTheSinglePredictions) {
  const data::Batch batch = to_batch(make_dataset(SyntheticTask::kBinary, 64, 5));
  const std::vector<float> expected = mlp().predict(batch).values;
  constexpr int kThreads = 2;
  constexpr int kCalls = 20000;
  Model models[kThreads] = {mlp(), mlp()};
  std::atomic<int> wrong[kThreads] = {0, 0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kCalls; ++i) {
        if (models[t].predict(batch).values != expected) ++wrong[t];
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[t].load(), 0) << "thread " << t << " of " << kCalls << " calls";
}

}  // namespace
}  // namespace streamml::model
