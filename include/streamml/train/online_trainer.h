// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// OnlineTrainer: online learning over an unbounded stream (a consumer-group
// KafkaDataset in mini-batch mode, or any BatchSource):
//
//   for each mini-batch:
//     predict it with the current model (test-then-train) when a callback
//       wants predictions, and hand them to on_predict_batch_end
//     Trainer::train_step (one optimizer update)
//     on_batch_end callbacks (metrics)
//     every `checkpoint_every` batches: save the model file (weights,
//       optimizer, offsets = the positions after the trained records), then
//       commit those offsets to Kafka (source.commit())
//
// The checkpoint is the source of truth for training: offsets are committed
// to Kafka only right after a checkpoint, so both agree (a crash between the
// save and the commit leaves the group behind the checkpoint, and resume()
// starts from the checkpoint's offsets anyway). After a kill and restart,
// resume() makes the dataset start at the checkpoint's offsets: no record
// after the last checkpoint is trained twice and none is skipped. Without a
// checkpoint path the offsets are committed after every update.
//
// The model's metadata "online_records" counts the records trained online
// over all runs; it is saved with the offsets, so it stays consistent with
// them across restarts.
//
// Not thread-safe, except request_stop().
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include "streamml/data/batch.h"
#include "streamml/train/callback.h"
#include "streamml/train/trainer.h"

namespace streamml::data {
class KafkaDataset;
}  // namespace streamml::data

namespace streamml::train {

inline constexpr const char* kOnlineRecordsKey = "online_records";

struct OnlineOptions {
  std::string checkpoint_path{};   // model file written at checkpoints ("" = none; commit every batch)
  int64_t checkpoint_every = 100;  // batches between checkpoints (>= 1)
  int64_t max_batches = 0;         // stop after this many batches; 0: until the stream stops
  bool predict = false;            // predict each batch before training it (on_predict_batch_end)
};

// What run() did.
struct OnlineResult {
  int64_t batches = 0;      // batches trained in this run
  int64_t records = 0;      // records trained in this run
  int64_t checkpoints = 0;  // checkpoints saved in this run
  Metrics last_metrics;     // metrics of the last batch
};

class OnlineTrainer {
 public:
  // Throws ConfigError for checkpoint_every < 1 or max_batches < 0.
  OnlineTrainer(model::Model& model, Trainer& trainer, OnlineOptions options);

  // Makes `dataset` start where `model` was trained up to (its offsets()),
  // whatever the group has committed. No-op when the model has no offsets.
  static void resume(const model::Model& model, data::KafkaDataset& dataset);

  // Trains on `source` until it ends (stream timeout), max_batches, or
  // request_stop(); then saves a final checkpoint and commits. Callbacks get
  // on_train_begin, on_batch_begin/end, on_predict_batch_end and on_train_end.
  // Throws DivergenceError (trainer.h) when a loss or, at a checkpoint, the
  // weights are not finite: that model is never saved nor its offsets
  // committed.
  OnlineResult run(data::BatchSource& source, const Callbacks& callbacks = {});

  // Ends run() after the current batch. Safe from any thread or a signal handler.
  void request_stop() { stop_requested_.store(true); }

 private:
  void checkpoint(data::BatchSource& source, OnlineResult& result);

  model::Model& model_;
  Trainer& trainer_;
  OnlineOptions options_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace streamml::train
