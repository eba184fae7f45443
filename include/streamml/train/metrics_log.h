// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// MetricsLog: writes training progress as JSON lines to a file, one object
// per event, flushed as written:
//   {"event":"train_begin","run_id":"r1","epochs":10,"task":"binary","parameters":97,"time":"2026-..."}
//   {"event":"batch","epoch":0,"step":50,"records":1600,"elapsed_s":0.8,"loss":0.41,"epoch_records":1600,...}
//   {"event":"epoch","epoch":0,"step":100,"records":3200,"elapsed_s":1.6,"loss":0.35,"val_loss":0.36,...}
//   {"event":"train_end","epochs_run":7,"step":700,"records":22400,"elapsed_s":11.2,"stop_reason":"...",...}
//   {"event":"drift","time":"2026-...","topic":"sea","partition":0,"offset":4191,"detector":"adwin",...}
// "records" counts the records trained so far in the run, "epoch_records"
// those of the current epoch; no key appears twice in an object. The
// metrics topic (KafkaMetricsCallback) gets the same events. Non-finite
// values are written as null. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "streamml/train/callback.h"

namespace streamml::train {

struct MetricsLogOptions {
  std::string path{};       // output file (created or truncated)
  int64_t every_steps = 0;  // also log a batch event every N steps; 0: epochs only
  std::string run_id{};     // written in train_begin ("": left out)
};

class MetricsLog final : public Callback {
 public:
  // Opens the file; throws InputError naming it when it cannot be created.
  explicit MetricsLog(MetricsLogOptions options);
  ~MetricsLog() override;

  void on_train_begin(TrainContext& context) override;
  void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;
  void on_drift(TrainContext& context, const DriftEvent& event) override;

 private:
  void write(const std::string& line);
  double elapsed_s() const;

  MetricsLogOptions options_;
  std::FILE* file_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  int epochs_logged_ = 0;
};

}  // namespace streamml::train
