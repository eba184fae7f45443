// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/metrics_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>

#include "streamml/common/error.h"
#include "streamml/model/model.h"
#include "json_text.h"

namespace streamml::train {
namespace {

std::string json_number(double value) { return json::number(value); }
std::string json_string(std::string_view text) { return json::string(text); }

void append_logs(std::string& line, const Logs& logs) {
  for (const auto& [key, value] : logs) line += fmt::format(",{}:{}", json_string(key), json_number(value));
}

}  // namespace

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
  std::string line = fmt::format("{{\"event\":\"train_begin\",\"epochs\":{}", context.epochs);
  if (context.model != nullptr) {
    line += ",\"task\":" + json_string(context.model->task().to_string());
    line += fmt::format(",\"parameters\":{}", context.model->num_parameters());
  }
  line += ",\"time\":" + json_string(fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))));
  write(line + "}");
}

void MetricsLog::on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {
  if (options_.every_steps <= 0 || step % options_.every_steps != 0) return;
  std::string line = fmt::format(
      "{{\"event\":\"batch\",\"epoch\":{},\"step\":{},\"records\":{},\"elapsed_s\":{}", context.epoch,
      step, context.records, json_number(elapsed_s()));
  append_logs(line, logs);
  write(line + "}");
}

void MetricsLog::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  std::string line = fmt::format(
      "{{\"event\":\"epoch\",\"epoch\":{},\"step\":{},\"records\":{}", epoch, context.step,
      context.records);
  Logs rest = logs;
  rest["elapsed_s"] = elapsed_s();
  append_logs(line, rest);
  write(line + "}");
  ++epochs_logged_;
}

void MetricsLog::on_train_end(TrainContext& context, const Logs& logs) {
  std::string line = fmt::format(
      "{{\"event\":\"train_end\",\"epochs_run\":{},\"step\":{},\"records\":{},\"elapsed_s\":{}",
      epochs_logged_, context.step, context.records, json_number(elapsed_s()));
  line += ",\"stop_reason\":" + json_string(context.stop_reason);
  Logs rest = logs;
  rest.erase("elapsed_s");
  append_logs(line, rest);
  write(line + "}");
}

}  // namespace streamml::train
