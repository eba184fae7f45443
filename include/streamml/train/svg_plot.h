// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// SvgPlot: draws the training curves of fit() as a standalone SVG file
// (`--plot FILE.svg`): one panel for the loss, one for the task's main
// metric (accuracy or rmse) and one for the AUC when the logs have it, each
// with axes, ticks, axis labels and a legend, training in solid blue and
// validation in dashed orange, and the best epoch of the monitored metric as
// a dashed green line. The file is rewritten after every epoch, so it can be
// watched during long runs. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamml/train/callback.h"

namespace streamml::train {

// One epoch's logs, 1-based epoch number.
using EpochHistory = std::vector<std::pair<int, Logs>>;

// The epoch where `monitor` was best (lowest, or highest for
// higher_is_better() metrics; the first of equals). `monitor` "" is val_loss
// when the history has it, else loss. nullopt when no epoch logged it.
struct BestEpoch {
  int epoch = 0;        // 1-based, as in EpochHistory
  std::string monitor;  // the metric compared
  double value = 0;     // its value then
};
std::optional<BestEpoch> best_epoch(const EpochHistory& history, const std::string& monitor = "");

// Renders the panels for `history`: loss, `metric` (train key `metric`,
// validation key `val_<metric>`) and, when any epoch logged auc or val_auc,
// AUC; every panel marks best_epoch(history, monitor).
std::string render_training_svg(const EpochHistory& history, const std::string& metric,
                                const std::string& title = "streamml training", const std::string& monitor = "");

// The curves of online learning: (records of the run, metric) points of
// the windowed and the faded prequential metric, drifts detected and the
// known drift, as records of the run.
struct OnlineHistory {
  std::string metric;                                    // "accuracy" or "rmse" (keys preq_<metric>...)
  std::vector<std::pair<double, Logs>> points;           // (records, logs with preq_* metrics)
  std::vector<double> drifts;                            // records at which a drift was detected
  double true_drift = -1;                                // the known drift's record; < 0: none
};

// Renders two panels: the prequential metric and the prequential loss over
// records, windowed (solid) and faded (dashed), each detected drift a red
// vertical line and the known drift a grey dashed one.
std::string render_online_svg(const OnlineHistory& history, const std::string& title = "streamml online learning");

// --plot of online learning: collects the prequential metrics of every
// batch and the drifts, and writes render_online_svg() every
// kRewriteBatches batches and at the end (atomically). Not thread-safe.
class OnlinePlot final : public Callback {
 public:
  static constexpr int64_t kRewriteBatches = 500;

  // `true_drift`: the known drift's record number in this run (< 0: none).
  explicit OnlinePlot(std::string path, double true_drift = -1);

  void on_train_begin(TrainContext& context) override;
  void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) override;
  void on_drift(TrainContext& context, const DriftEvent& event) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

 private:
  std::string path_;
  std::string title_;
  OnlineHistory history_;
};

class SvgPlot final : public Callback {
 public:
  // `metric` "" picks the task's main metric at train begin; `monitor` is
  // the metric whose best epoch is marked ("": val_loss, else loss).
  explicit SvgPlot(std::string path, std::string metric = "", std::string monitor = "");

  void on_train_begin(TrainContext& context) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;

 private:
  // Writes the file atomically; throws InputError naming it on failure.
  void write() const;

  std::string path_;
  std::string metric_;
  std::string monitor_;
  std::string title_;
  EpochHistory history_;
};

}  // namespace streamml::train
