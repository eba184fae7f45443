// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// LambdaCallback: a Callback from plain functions, for callbacks that are
// not worth a class (e.g. writing epoch metrics to a Kafka topic). Unset
// functions do nothing. Thread-safety: as the functions it holds.
#pragma once

#include <functional>

#include "streamml/train/callback.h"

namespace streamml::train {

class LambdaCallback final : public Callback {
 public:
  std::function<void(TrainContext&)> train_begin;
  std::function<void(TrainContext&, const Logs&)> train_end;
  std::function<void(TrainContext&, int)> epoch_begin;
  std::function<void(TrainContext&, int, const Logs&)> epoch_end;
  std::function<void(TrainContext&, int64_t)> batch_begin;
  std::function<void(TrainContext&, int64_t, const Logs&)> batch_end;
  std::function<void(const data::Batch&, const model::Predictions&)> predict_batch_end;

  void on_train_begin(TrainContext& c) override { if (train_begin) train_begin(c); }
  void on_train_end(TrainContext& c, const Logs& l) override { if (train_end) train_end(c, l); }
  void on_epoch_begin(TrainContext& c, int e) override { if (epoch_begin) epoch_begin(c, e); }
  void on_epoch_end(TrainContext& c, int e, const Logs& l) override {
    if (epoch_end) epoch_end(c, e, l);
  }
  void on_batch_begin(TrainContext& c, int64_t s) override { if (batch_begin) batch_begin(c, s); }
  void on_batch_end(TrainContext& c, int64_t s, const Logs& l) override {
    if (batch_end) batch_end(c, s, l);
  }
  void on_predict_batch_end(const data::Batch& b, const model::Predictions& p) override {
    if (predict_batch_end) predict_batch_end(b, p);
  }
};

}  // namespace streamml::train
