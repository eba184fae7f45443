// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "metrics_events.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <initializer_list>
#include <string_view>

#include "json_text.h"
#include "streamml/model/model.h"

namespace streamml::train::events {
namespace {

// Appends the metrics after the event's own fields (`own`): the metrics'
// "records" becomes "epoch_records", other clashing names are left out.
void append_logs(std::string& line, const Logs& logs, std::initializer_list<std::string_view> own) {
  for (const auto& [key, value] : logs) {
    std::string name = key;
    if (name == "records") name = "epoch_records";
    bool clashes = false;
    for (std::string_view o : own) clashes = clashes || o == name;
    if (clashes) continue;
    line += fmt::format(",{}:{}", json::string(name), json::number(value));
  }
}

}  // namespace

std::string train_begin(const TrainContext& context, const std::string& run_id) {
  std::string line = R"({"event":"train_begin")";
  if (!run_id.empty()) line += ",\"run_id\":" + json::string(run_id);
  line += fmt::format(",\"epochs\":{}", context.epochs);
  if (context.model != nullptr) {
    line += ",\"task\":" + json::string(context.model->task().to_string());
    line += fmt::format(",\"parameters\":{}", context.model->num_parameters());
  }
  line += ",\"time\":" + json::string(fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))));
  return line + "}";
}

std::string batch(const TrainContext& context, int64_t step, const Logs& logs, double elapsed_s) {
  std::string line = fmt::format(R"({{"event":"batch","epoch":{},"step":{},"records":{},"elapsed_s":{})",
                                 context.epoch, step, context.records, json::number(elapsed_s));
  append_logs(line, logs, {"event", "epoch", "step", "records", "elapsed_s"});
  return line + "}";
}

std::string epoch(const TrainContext& context, int epoch, const Logs& logs, double elapsed_s) {
  std::string line = fmt::format(R"({{"event":"epoch","epoch":{},"step":{},"records":{},"elapsed_s":{})", epoch,
                                 context.step, context.records, json::number(elapsed_s));
  append_logs(line, logs, {"event", "epoch", "step", "records", "elapsed_s"});
  return line + "}";
}

std::string train_end(const TrainContext& context, int epochs_run, const Logs& logs, double elapsed_s) {
  std::string line = fmt::format(R"({{"event":"train_end","epochs_run":{},"step":{},"records":{},"elapsed_s":{})",
                                 epochs_run, context.step, context.records, json::number(elapsed_s));
  line += ",\"stop_reason\":" + json::string(context.stop_reason);
  append_logs(line, logs, {"event", "epochs_run", "step", "records", "elapsed_s", "stop_reason"});
  return line + "}";
}

std::string drift(const TrainContext& context, const DriftEvent& event, const std::string& run_id) {
  std::string line = R"({"event":"drift")";
  if (!run_id.empty()) line += ",\"run_id\":" + json::string(run_id);
  const std::time_t seconds = static_cast<std::time_t>(event.time_ms / 1000);
  line += ",\"time\":" + json::string(fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(seconds),
                                                    static_cast<int>(event.time_ms % 1000)));
  line += ",\"topic\":" + json::string(event.topic);
  line += fmt::format(R"(,"partition":{},"offset":{},"record":{},"drifts":{})", event.partition, event.offset,
                      event.record, event.drifts);
  line += ",\"detector\":" + json::string(event.detector);
  line += fmt::format(R"(,"statistic":{},"error":{})", json::number(event.statistic), json::number(event.error));
  line += ",\"action\":" + json::string(event.action);
  line += fmt::format(R"(,"step":{},"records":{})", context.step, context.records);
  return line + "}";
}

}  // namespace streamml::train::events
