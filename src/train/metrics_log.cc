// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/metrics_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "streamml/common/error.h"
#include "metrics_events.h"

namespace streamml::train {

MetricsLog::MetricsLog(MetricsLogOptions options) : options_(std::move(options)) {
  file_ = std::fopen(options_.path.c_str(), "w");
  if (file_ == nullptr) {
    throw InputError(fmt::format("cannot create metrics log '{}': {}", options_.path, std::strerror(errno)));
  }
  start_ = std::chrono::steady_clock::now();
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

double MetricsLog::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void MetricsLog::write(const std::string& line) {
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  if (std::fflush(file_) != 0) {
    throw InputError(fmt::format("cannot write metrics log '{}': {}", options_.path, std::strerror(errno)));
  }
}

void MetricsLog::on_train_begin(TrainContext& context) {
  start_ = std::chrono::steady_clock::now();
  epochs_logged_ = 0;
  write(events::train_begin(context, options_.run_id));
}

void MetricsLog::on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {
  if (options_.every_steps <= 0 || step % options_.every_steps != 0) return;
  write(events::batch(context, step, logs, elapsed_s()));
}

void MetricsLog::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  write(events::epoch(context, epoch, logs, elapsed_s()));
  ++epochs_logged_;
}

void MetricsLog::on_train_end(TrainContext& context, const Logs& logs) {
  write(events::train_end(context, epochs_logged_, logs, elapsed_s()));
}

}  // namespace streamml::train

namespace streamml::train {

void MetricsLog::on_drift(TrainContext& context, const DriftEvent& event) {
  write(events::drift(context, event, options_.run_id));
}

}  // namespace streamml::train
