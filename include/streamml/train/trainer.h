// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Trainer: fits a model::Model on a data::BatchSource with SGD, Adam or
// AdamW and the loss of its task (BCEWithLogits for binary, CrossEntropy for
// multiclass, MSE for regression), with validation, metrics, callbacks and
// early stopping; evaluates; and takes single optimizer steps for online
// learning over a stream.
//
// Repeatability: fit() seeds LibTorch with options.seed, and sources replay
// deterministically (see InMemorySource), so the same inputs give the same
// weights.
//
// Source protocol: a source is read from its current position until next()
// returns nullopt; fit() calls reset() before every later pass over the same
// source (statistics pass, epochs, validation rounds), and commit() after
// every training step. With StatsMode::kFullPass a model without feature
// statistics costs one extra pass (and a reset()) over the training source.
//
// Records whose labels do not fit the task (0.5 for binary, 7 for
// multiclass:3) and batches of the wrong width are InputErrors naming the
// record: a record is never skipped silently.
//
// Each trained record advances Model::offsets() to record.offset + 1 for its
// topic-partition, so a saved model remembers how far it has read.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/batch.h"
#include "streamml/model/model.h"
#include "streamml/train/callback.h"
#include "streamml/train/metrics.h"
#include "streamml/train/train_options.h"

namespace streamml::train {

class ProcessGroup;  // distributed.h

// Training diverged: a loss or the weights are not finite numbers (NaN,
// infinity), e.g. after a far too large learning rate. The message names the
// epoch and batch (or step).
class DivergenceError : public Error {
 public:
  using Error::Error;
};

// What fit() did.
struct History {
  std::vector<Logs> epochs;  // per-epoch logs (training and "val_" metrics)
  int epochs_run = 0;
  int64_t steps = 0;
  int64_t records = 0;
  bool stopped_early = false;  // a callback, max_steps or request_stop() ended training
  std::string stop_reason;
  int best_epoch = 0;          // with patience: the best epoch (1-based); 0: none
  int weights_epoch = 0;       // the epoch (1-based) whose weights the model holds at the end:
                               // best_epoch with restore_best, else the last one run
};

// Not thread-safe, except request_stop(). Holds a reference to the model,
// which must outlive it; the optimizer lives in the model (so it is saved
// with it) and is created on first use.
class Trainer {
 public:
  // Throws ConfigError naming the invalid option (see TrainOptions::validate).
  Trainer(model::Model& model, TrainOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains for options.epochs passes (or until stopped). Throws InputError for
  // bad records, ConfigError when the sources do not match the model (feature
  // count) or the training source is empty, DivergenceError when a batch's
  // loss is not finite (before updating the weights with it) or the weights
  // are not finite at the end of an epoch.
  History fit(data::BatchSource& train, data::BatchSource* validation = nullptr,
              const Callbacks& callbacks = {});

  // Metrics of the model on every remaining batch of `source` (eval mode, no
  // gradients); labels are required. With a process group: over every
  // rank's source (a collective call).
  Metrics evaluate(data::BatchSource& source);

  // One optimizer step on `batch` (online learning). Without statistics the
  // model (when it standardises) takes them from this batch and keeps them.
  // Returns the batch's metrics plus "step" (steps so far). Throws
  // DivergenceError, without updating the weights, when the loss is not finite.
  // With `predictions`, stores there the step's forward pass as predictions:
  // made with the weights before the update, in training mode (so with
  // dropout when the model has it).
  Metrics train_step(const data::Batch& batch, model::Predictions* predictions = nullptr);

  // Drift responses of online learning (OnlineTrainer):
  // Drops the optimizer's state (moments, step counts); the next step starts
  // a fresh optimizer of the same kind.
  void reset_optimizer();
  // Changes the learning rate of the following steps. Throws ConfigError
  // unless it is a finite number > 0.
  void set_learning_rate(double learning_rate);
  // Replaces the weights of a built-in model by freshly initialised ones
  // (deterministic for `seed`) and drops the optimizer's state; feature
  // statistics, offsets and metadata are kept. Throws ConfigError for a
  // TorchScript model (its initialisation is not known).
  void reset_weights(uint64_t seed);

  // Data-parallel training (distributed.h): from now on every optimizer step
  // is collective over `group` (nullptr: one process). fit() then reduces
  // the feature statistics, the epoch metrics and the validation metrics
  // over the ranks (every rank reads its own share and logs the same
  // totals), and an epoch ends when every rank's share is exhausted: a rank
  // that ran out takes part in the remaining steps with zero gradients, and
  // each step's gradient is the mean over the records all ranks trained in
  // it. A stop (request_stop(), max_steps, a callback) stops every rank.
  // The group must outlive the trainer's use of it.
  void set_process_group(ProcessGroup* group) { group_ = group; }
  ProcessGroup* process_group() const { return group_; }

  // What one collective step did, over every rank.
  struct CollectiveStep {
    Metrics metrics;         // of this rank's batch (empty without one)
    int64_t records = 0;     // records all ranks trained in the step (0: no rank had any; no step taken)
    bool stop = false;       // some rank asked every rank to stop
    bool all_ended = false;  // every rank's source has ended
  };
  // One collective optimizer step (needs a process group; every rank calls
  // it the same number of times). `batch`: this rank's records, nullptr or
  // empty when it has none now; `ended`: its source has ended; `stop`: ask
  // every rank to stop. Throws DivergenceError on every rank when any rank's
  // loss is not finite, DistributedError when a rank is gone.
  CollectiveStep collective_step(const data::Batch* batch, bool ended, bool stop,
                                 model::Predictions* predictions = nullptr);

  // Ends fit() after the current batch. Safe to call from any thread or a
  // signal handler.
  void request_stop() { stop_requested_.store(true); }

  int64_t steps() const { return steps_; }
  const TrainOptions& options() const { return options_; }

 private:
  // The collective step, adding this rank's batch to `acc`.
  CollectiveStep collective(const data::Batch* batch, bool ended, bool stop, model::Predictions* predictions,
                            MetricAccumulator& acc, double* batch_loss);
  // One step of fit() with a process group; false ends the epoch's loop.
  bool collective_fit_step(const data::Batch* batch, MetricAccumulator& acc, TrainContext& context,
                           const Callbacks& callbacks, data::BatchSource& train);

  model::Model& model_;
  TrainOptions options_;
  int64_t steps_ = 0;
  std::atomic<bool> stop_requested_{false};
  ProcessGroup* group_ = nullptr;
};

// True when every weight of `model` is a finite number (checked before a
// model is saved: a diverged model is never written).
bool has_finite_weights(model::Model& model);

// Convenience wrappers around Trainer.
History fit(model::Model& model, data::BatchSource& train, const TrainOptions& options,
            data::BatchSource* validation = nullptr, const Callbacks& callbacks = {});
Metrics evaluate(model::Model& model, data::BatchSource& source);

// evaluate() plus, for classification, precision/recall/f1 among the
// metrics and the confusion matrix (MetricAccumulator::classification_metrics).
struct Evaluation {
  Metrics metrics;
  ConfusionMatrix confusion;  // empty for regression
};
Evaluation evaluate_report(model::Model& model, data::BatchSource& source);

// Predicts every remaining batch of `source`, calling on_predict_batch_end
// of each callback and source.commit() after each batch. Returns the number
// of records predicted.
int64_t predict(model::Model& model, data::BatchSource& source, const Callbacks& callbacks);

}  // namespace streamml::train
