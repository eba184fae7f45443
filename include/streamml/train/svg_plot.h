// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// SvgPlot: draws the training curves of fit() as a standalone SVG file
// (`--plot FILE.svg`): one panel for the loss and one for the task's main
// metric (accuracy or rmse), each with axes, ticks, axis labels and a legend,
// training in solid blue and validation in dashed orange. The file is
// rewritten after every epoch, so it can be watched during long runs.
// Not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "streamml/train/callback.h"

namespace streamml::train {

// One epoch's logs, 1-based epoch number.
using EpochHistory = std::vector<std::pair<int, Logs>>;

// Renders the two panels for `history`; `metric` is the second panel's
// metric (train key `metric`, validation key `val_<metric>`).
std::string render_training_svg(const EpochHistory& history, const std::string& metric,
                                const std::string& title = "streamml training");

class SvgPlot final : public Callback {
 public:
  // `metric` "" picks the task's main metric at train begin.
  explicit SvgPlot(std::string path, std::string metric = "");

  void on_train_begin(TrainContext& context) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

 private:
  // Writes the file atomically; throws InputError naming it on failure.
  void write() const;

  std::string path_;
  std::string metric_;
  std::string title_;
  EpochHistory history_;
};

}  // namespace streamml::train
