// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Learning-rate schedules of epoch training, as Keras' LearningRateScheduler
// and ReduceLROnPlateau:
//   step:E:G     multiply the rate by G every E epochs (StepLR)
//   cosine       cosine annealing from the base rate towards 0 over the
//                planned epochs (epoch e of E: base * (1 + cos(pi e / E)) / 2)
//   plateau:P:F  multiply the rate by F after P epochs without improvement
//                of the monitored metric (TrainOptions::monitor, min_delta)
// Trainer::fit applies the rate at the start of each epoch and logs it as
// "lr" in the epoch logs. Not thread-safe (driven by the trainer thread).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace streamml::train {

enum class LrScheduleKind { kNone, kStep, kCosine, kPlateau };

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kNone;
  int every_epochs = 1;   // step: epochs between two decays (>= 1)
  double factor = 0.1;    // step, plateau: multiplier in (0, 1)
  int patience = 1;       // plateau: epochs without improvement before a decay (>= 1)

  // Throws ConfigError naming the first invalid field.
  void validate() const;
  // The spec it was parsed from: "step:2:0.5", "cosine", "plateau:3:0.5", "" for none.
  std::string to_string() const;
};

// Parses "step:E:G", "cosine" or "plateau:P:F" ("" or "none": no schedule).
// Throws ConfigError naming the spec and the expected forms.
LrSchedule parse_lr_schedule(std::string_view spec);

// The rate of each epoch under a schedule.
class LrScheduler {
 public:
  // `monitor`: the resolved metric of plateau ("val_loss", "accuracy", ...).
  LrScheduler(LrSchedule schedule, double base_rate, int epochs, std::string monitor, double min_delta);

  // The rate for `epoch` (0-based), called once per epoch in order.
  double rate(int epoch);
  // After each epoch: its logs (plateau reads the monitored metric). Throws
  // ConfigError when the monitored metric is not among them.
  void observe(const std::map<std::string, double>& logs);
  const std::string& monitor() const { return monitor_; }

 private:
  LrSchedule schedule_;
  double base_;
  double current_;
  int epochs_;
  std::string monitor_;
  double min_delta_;
  std::optional<double> best_;
  int wait_ = 0;
};

}  // namespace streamml::train
