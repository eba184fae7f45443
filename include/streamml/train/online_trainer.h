// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// OnlineTrainer: online learning over an unbounded stream (a consumer-group
// KafkaDataset in mini-batch mode, or any BatchSource):
//
//   for each mini-batch:
//     predict it with the current model (test-then-train) and hand the
//       predictions to on_predict_batch_end (options.predict)
//     Trainer::train_step (one optimizer update)
//     evaluate the predictions made before the update (options.evaluate,
//       prequential.h: the step's own forward pass for a built-in network
//       without dropout, else a separate prediction); the per-record errors
//       feed the drift detector (drift.h)
//     on a drift: on_drift callbacks, then the drift action
//       (drift_action.h), which takes effect from the next batch
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
// them across restarts. So are the prequential evaluator's and the drift
// detector's states (metadata kPrequentialStateKey, kDriftStateKey): after a
// restart the detector neither raises again an alarm it raised before the
// checkpoint nor forgets the evidence it had gathered, and the drift count
// goes on. A batch the model cannot predict yet (a standardising model
// before its first update, which takes the statistics) is not evaluated.
//
// Distributed (the trainer has a process group, distributed.h): every rank
// runs run() on its own consumer of one group. Each loop turn is one
// collective step: a rank without records at that moment (idle, or its
// stream ended) takes part with zero gradients; run() ends when every
// rank's stream ended, or any rank is stopped. Steps, max_batches and
// checkpoints count collective steps, so all ranks checkpoint at the same
// step: rank 0 saves the model with every rank's offsets (gathered), then
// each rank commits its own. A restart of every rank resumes from that
// checkpoint. Evaluation and drift detection stay per rank, and the only
// drift action allowed is log (another would change one rank's model).
//
// Not thread-safe, except request_stop().
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "streamml/data/batch.h"
#include "streamml/train/callback.h"
#include "streamml/train/drift.h"
#include "streamml/train/drift_action.h"
#include "streamml/train/prequential.h"
#include "streamml/train/trainer.h"

namespace streamml::data {
class KafkaDataset;
}  // namespace streamml::data

namespace streamml::train {

inline constexpr const char* kOnlineRecordsKey = "online_records";
inline constexpr const char* kPrequentialStateKey = "prequential_state";
inline constexpr const char* kDriftStateKey = "drift_state";

struct OnlineOptions {
  std::string checkpoint_path{};   // model file written at checkpoints ("" = none; commit every batch)
  int64_t checkpoint_every = 100;  // batches between checkpoints (>= 1)
  int64_t max_batches = 0;         // stop after this many batches; 0: until the stream stops
  bool predict = false;            // predict each batch before training it (on_predict_batch_end)
  bool evaluate = true;            // prequential evaluation of each batch before training it
  PrequentialOptions prequential{};  // its window and fading factor
  // Detector on the prequential error stream (kind kNone: none; needs evaluate).
  DriftDetectorOptions drift{.kind = DriftDetectorKind::kNone};
  DriftAction on_drift{};          // what a detected drift does
  int64_t auc_every = 100;         // batches between the logs that carry the windowed AUC (>= 1)
  uint64_t seed = 42;              // reset-model: fresh weights seeded with seed + drift number
};

// What run() did.
struct OnlineResult {
  int64_t batches = 0;      // batches trained in this run
  int64_t records = 0;      // records trained in this run
  int64_t checkpoints = 0;  // checkpoints saved in this run
  int64_t drifts = 0;       // drifts detected in this run
  Metrics last_metrics;     // metrics of the last batch
  Metrics prequential;      // prequential metrics at the end (empty without evaluation)
};

class OnlineTrainer {
 public:
  // Throws ConfigError for checkpoint_every < 1, max_batches < 0, invalid
  // prequential or drift options, a detector without evaluation, or
  // reset-model / retrain-window with a TorchScript model. Restores the
  // evaluator's and the detector's states from the model's metadata (a
  // state of another detector kind or task is logged and ignored).
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
  // Evaluates `predictions` of `batch`; returns the drifts detected in it.
  std::vector<DriftEvent> evaluate(const data::Batch& batch, const model::Predictions& predictions);
  // Applies options_.on_drift (once per batch, however many drifts it held).
  void respond_to_drift(int64_t drift_number);
  // Keeps `batch` among the recent records for retrain-window.
  void remember(const data::Batch& batch);
  // Ends a learning-rate boost whose batches are spent.
  void count_down_boost();

  model::Model& model_;
  Trainer& trainer_;
  OnlineOptions options_;
  std::optional<PrequentialEvaluator> evaluator_;
  std::unique_ptr<DriftDetector> detector_;
  double base_learning_rate_ = 0.0;
  int64_t boost_left_ = 0;          // batches left with the boosted learning rate
  std::deque<data::Batch> recent_;  // retrain-window: the last batches, oldest first
  int64_t recent_records_ = 0;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace streamml::train
