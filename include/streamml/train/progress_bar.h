// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ProgressBar: Keras-style progress on stderr. On a terminal it redraws one
// line per epoch ("Epoch 2/10  120/500 [=====>.....] 9.1k rec/s ETA 3s -
// loss: 0.4321 - accuracy: 0.9000") in place (\r) and ends it with the epoch's
// metrics. The total is the first epoch's step count from the second epoch
// on; in the first, an estimate from the source's size hint (bounded Kafka
// ranges) and the first batch's size, else a plain step count. The line
// fits the terminal's width (TIOCGWINSZ; 80 columns when it cannot be
// read): the bar shrinks first, then the metrics are cut, so a redraw never
// wraps onto a new line.
// When the stream is not a terminal it writes plain lines instead: one every
// `plain_interval` during an epoch and one at its end.
// Not thread-safe (driven by the trainer thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "streamml/train/callback.h"

namespace streamml::train {

enum class ProgressStyle { kAuto, kTerminal, kPlain };

struct ProgressBarOptions {
  std::FILE* stream = stderr;                // where to write (never stdout in library use)
  ProgressStyle style = ProgressStyle::kAuto;  // kAuto: kTerminal when the stream is a tty
  std::chrono::milliseconds refresh{100};    // terminal redraw interval
  std::chrono::milliseconds plain_interval{10000};  // plain-line interval within an epoch; 0: epoch ends only
  int width = 30;                            // characters of the bar (at most; shrinks to fit)
  int columns = 0;                           // terminal width; 0: ask the terminal (80 when unknown)
};

// The width of the terminal behind `stream` (TIOCGWINSZ), or 80 when it is
// not a terminal or does not say.
int terminal_columns(std::FILE* stream);

// Fits a progress line into `columns` - 1 characters: shrinks the bar
// `[===>...]` (not below 10 characters), then cuts the end. Exposed for tests.
std::string fit_progress_line(const std::string& before_bar, int bar_done_permille, bool final_line,
                              const std::string& after_bar, int max_bar, int columns);

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
  int64_t first_batch_size_ = 0;  // for the first epoch's estimated total
};

}  // namespace streamml::train
