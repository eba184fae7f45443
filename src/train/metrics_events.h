// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The JSON events of a training run, one object per line or record, shared by
// MetricsLog (a JSON-lines file) and KafkaMetricsCallback (a topic) so that
// both carry the same events with the same fields:
//   {"event":"train_begin","run_id":"...","epochs":10,"task":"binary","parameters":97,"time":"2026-..."}
//   {"event":"batch","epoch":0,"step":50,"records":1600,"elapsed_s":0.8,"loss":0.41,"epoch_records":1600,...}
//   {"event":"epoch","epoch":0,"step":100,"records":3200,"elapsed_s":1.6,"loss":0.35,"epoch_records":3200,...}
//   {"event":"train_end","epochs_run":7,"step":700,"records":22400,"elapsed_s":11.2,"stop_reason":"...",...}
//   {"event":"drift","run_id":"...","time":"2026-...","topic":"sea","partition":0,"offset":4191,"record":4160,
//    "drifts":1,"detector":"adwin","statistic":0.21,"error":0.23,"action":"log","step":130,"records":4160}
// "records" counts the records trained so far in the run; the metrics'
// own record count (of the epoch) is "epoch_records", so no key appears
// twice. Non-finite values are null. Internal to src/train.
#pragma once

#include <string>

#include "streamml/train/callback.h"

namespace streamml::train::events {

// `run_id` "" leaves the field out.
std::string train_begin(const TrainContext& context, const std::string& run_id);
std::string batch(const TrainContext& context, int64_t step, const Logs& logs, double elapsed_s);
std::string epoch(const TrainContext& context, int epoch, const Logs& logs, double elapsed_s);
std::string train_end(const TrainContext& context, int epochs_run, const Logs& logs, double elapsed_s);
// A drift of online learning; "time" has milliseconds (UTC).
std::string drift(const TrainContext& context, const DriftEvent& event, const std::string& run_id);

}  // namespace streamml::train::events
