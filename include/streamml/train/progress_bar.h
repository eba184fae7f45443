// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ProgressBar: Keras-style progress on stderr. On a terminal it redraws one
// line per epoch ("Epoch 2/10  120/500 [=====>.....] 9.1k rec/s ETA 3s -
// loss: 0.4321 - accuracy: 0.9000") and ends it with the epoch's metrics; the
// total is known from the second epoch on (the first shows a step count).
// When the stream is not a terminal it writes plain lines instead: one every
// `plain_interval` during an epoch and one at its end.
// Not thread-safe (driven by the trainer thread).
#pragma once

#include <chrono>
#include <cstdio>

#include "streamml/train/callback.h"

namespace streamml::train {

enum class ProgressStyle { kAuto, kTerminal, kPlain };

struct ProgressBarOptions {
  std::FILE* stream = stderr;                // where to write (never stdout in library use)
  ProgressStyle style = ProgressStyle::kAuto;  // kAuto: kTerminal when the stream is a tty
  std::chrono::milliseconds refresh{100};    // terminal redraw interval
  std::chrono::milliseconds plain_interval{10000};  // plain-line interval within an epoch; 0: epoch ends only
  int width = 30;                            // characters of the bar
};

class ProgressBar final : public Callback {
 public:
  explicit ProgressBar(ProgressBarOptions options = {});

  void on_epoch_begin(TrainContext& context, int epoch) override;
  void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

 private:
  using Clock = std::chrono::steady_clock;
  void write_line(const TrainContext& context, const Logs& logs, bool final_line);

  ProgressBarOptions options_;
  bool terminal_ = false;
  Clock::time_point epoch_start_;
  Clock::time_point last_write_;
};

}  // namespace streamml::train
