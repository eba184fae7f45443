// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Callback: hooks into training and prediction loops, in the spirit of
// Keras callbacks. The trainer calls them in order on its own thread; a
// callback that needs other threads must synchronise itself. Exceptions
// thrown by a callback end the loop and propagate to the caller.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "streamml/data/batch.h"
#include "streamml/model/predictions.h"

namespace streamml::model {
class Model;
}  // namespace streamml::model

namespace streamml::train {

struct TrainOptions;

// Metric name -> value. Batch logs hold the running epoch metrics ("loss",
// "accuracy", ...) plus "batch_loss" and "batch_size"; epoch logs hold the
// epoch metrics plus "val_"-prefixed validation metrics.
using Logs = std::map<std::string, double>;

// Shared by the trainer with its callbacks during fit().
struct TrainContext {
  model::Model* model = nullptr;          // the model being trained
  const TrainOptions* options = nullptr;  // the effective options
  bool has_validation = false;            // fit() got a validation source
  int epochs = 0;                         // planned epochs
  int epoch = 0;                          // current epoch, 0-based
  int64_t step = 0;                       // optimizer steps so far (all epochs)
  int64_t epoch_step = 0;                 // steps in the current epoch
  int64_t steps_per_epoch = 0;            // steps of the first epoch, 0 until it ends
  int64_t records_hint = 0;               // training records per epoch when the source knows them
                                          // without reading (BatchSource::size_hint), else 0
  int64_t records = 0;                    // training records so far (all epochs)
  int64_t epoch_records = 0;              // training records in the current epoch
  bool stop_training = false;             // set by a callback: fit ends after this batch
  std::string stop_reason;                // why, for logs and History
};

// A concept drift that online learning detected (OnlineTrainer with a
// drift detector, train/drift.h) and what it did about it.
struct DriftEvent {
  std::string topic;          // the record at which the drift was detected ("" outside Kafka)
  int32_t partition = -1;     // its partition
  int64_t offset = -1;        // its offset
  int64_t record = 0;         // records evaluated so far over all runs, this one included
  int64_t run_record = 0;     // records of this run up to this one, this one included
  int64_t drifts = 0;         // drifts detected so far over all runs, this one included
  std::string detector;       // "adwin", "page-hinkley" or "ddm"
  double statistic = 0.0;     // the detector's statistic that raised the alarm
  double error = 0.0;         // the detector's estimate of the error after the alarm
  std::string action;         // the drift action taken (train/drift_action.h)
  int64_t time_ms = 0;        // wall-clock time of the detection, ms since the Unix epoch
};

class Callback {
 public:
  virtual ~Callback() = default;

  virtual void on_train_begin(TrainContext& context) {}
  virtual void on_train_end(TrainContext& context, const Logs& logs) {}
  virtual void on_epoch_begin(TrainContext& context, int epoch) {}
  virtual void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {}
  virtual void on_batch_begin(TrainContext& context, int64_t step) {}
  virtual void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {}
  // After each batch of a prediction loop (train::predict).
  virtual void on_predict_batch_end(const data::Batch& batch,
                                    const model::Predictions& predictions) {}
  // Online learning detected a drift in the batch being trained (before
  // its on_batch_end); one call per drift.
  virtual void on_drift(TrainContext& context, const DriftEvent& event) {}
};

// Non-owning: the callbacks must outlive the loop they are passed to.
using Callbacks = std::vector<Callback*>;

}  // namespace streamml::train
