// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/kafka_callbacks.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <string_view>

#include "streamml/common/error.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/output_sequence.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/producer.h"
#include "streamml/model/predictions.h"
#include "json_text.h"
#include "metrics_events.h"

namespace streamml::train {
namespace {

std::string json_number(double value) { return json::number(value); }
std::string json_string(std::string_view text) { return json::string(text); }

}  // namespace

kafka::Headers source_headers(const data::RecordMeta& meta) {
  return {
      {data::kHeaderSourceTopic, meta.topic},
      {data::kHeaderSourcePartition, std::to_string(meta.partition)},
      {data::kHeaderSourceOffset, std::to_string(meta.offset)},
  };
}

// --- KafkaMetricsCallback ---------------------------------------------------

KafkaMetricsCallback::KafkaMetricsCallback(KafkaMetricsOptions options) : options_(std::move(options)) {
  if (options_.topic.empty()) throw ConfigError("metrics topic is empty");
  if (options_.every_steps < 0) {
    throw ConfigError(fmt::format("metrics every_steps {} must be >= 0", options_.every_steps));
  }
  producer_ = std::make_unique<kafka::Producer>(options_.config);
  producer_->start_poll_thread();
}

KafkaMetricsCallback::~KafkaMetricsCallback() { producer_->close(); }

void KafkaMetricsCallback::write_line(const std::string& line) {
  kafka::ProduceRecord record;
  record.topic = options_.topic;
  if (!options_.key.empty()) record.key = std::string_view(options_.key);
  record.value = line;
  kafka::throw_if_error(producer_->produce(record), "writing metrics to topic '" + options_.topic + "'");
  ++written_;
}

double KafkaMetricsCallback::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void KafkaMetricsCallback::write_event(const std::string& event, const TrainContext& context, const Logs& logs) {
  std::string line = fmt::format(R"({{"event":{},"epoch":{},"step":{},"records":{})", json_string(event),
                                 context.epoch, context.step, context.records);
  for (const auto& [key, value] : logs) {
    if (key == "records" || key == "epoch" || key == "step") continue;  // the event's own fields
    line += fmt::format(",{}:{}", json_string(key), json_number(value));
  }
  write_line(line + "}");
}

void KafkaMetricsCallback::on_train_begin(TrainContext& context) {
  start_ = std::chrono::steady_clock::now();
  epochs_written_ = 0;
  write_line(events::train_begin(context, options_.key));
}

void KafkaMetricsCallback::on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {
  if (options_.every_steps > 0 && step % options_.every_steps == 0) {
    write_line(events::batch(context, step, logs, elapsed_s()));
  }
}

void KafkaMetricsCallback::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  write_line(events::epoch(context, epoch, logs, elapsed_s()));
  ++epochs_written_;
}

void KafkaMetricsCallback::on_train_end(TrainContext& context, const Logs& logs) {
  write_line(events::train_end(context, epochs_written_, logs, elapsed_s()));
  flush();
}

void KafkaMetricsCallback::flush(kafka::milliseconds timeout) {
  kafka::FlushResult result = producer_->flush(timeout);
  if (!result.ok()) {
    throw kafka::KafkaException(-1, fmt::format("metrics topic '{}': {} record(s) failed, {} undelivered", options_.topic,
                                         result.failed, result.still_queued));
  }
}

void KafkaMetricsCallback::on_drift(TrainContext& context, const DriftEvent& event) {
  write_line(events::drift(context, event, options_.key));
}

// --- KafkaDriftCallback -----------------------------------------------------

KafkaDriftCallback::KafkaDriftCallback(KafkaDriftOptions options) : options_(std::move(options)) {
  if (options_.topic.empty()) throw ConfigError("drift topic is empty");
  producer_ = std::make_unique<kafka::Producer>(options_.config);
  producer_->start_poll_thread();
}

KafkaDriftCallback::~KafkaDriftCallback() { producer_->close(); }

void KafkaDriftCallback::on_drift(TrainContext& context, const DriftEvent& event) {
  kafka::ProduceRecord record;
  record.topic = options_.topic;
  if (!options_.key.empty()) record.key = std::string_view(options_.key);
  const std::string line = events::drift(context, event, options_.key);
  record.value = line;
  kafka::throw_if_error(producer_->produce(record), "writing a drift event to topic '" + options_.topic + "'");
  ++written_;
}

void KafkaDriftCallback::on_train_end(TrainContext& context, const Logs& logs) { flush(); }

void KafkaDriftCallback::flush(kafka::milliseconds timeout) {
  kafka::FlushResult result = producer_->flush(timeout);
  if (!result.ok()) {
    throw kafka::KafkaException(-1, fmt::format("drift topic '{}': {} record(s) failed, {} undelivered", options_.topic,
                                                result.failed, result.still_queued));
  }
}

// --- KafkaPredictionsCallback -------------------------------------------------

PredictionEncoding parse_prediction_encoding(const std::string& name) {
  if (name == "json") return PredictionEncoding::kJson;
  if (name == "csv") return PredictionEncoding::kCsv;
  throw ConfigError("prediction format '" + name + "' is unknown: use json or csv");
}

KafkaPredictionsCallback::KafkaPredictionsCallback(KafkaPredictionsOptions options) : options_(std::move(options)) {
  if (options_.topic.empty()) throw ConfigError("predictions topic is empty");
  if (options_.partition_mode == PartitionMode::kFixed && options_.partition < 0) {
    throw ConfigError(fmt::format("predictions partition {} must be >= 0", options_.partition));
  }
  data::OutputSequenceOptions sequence;
  sequence.config = options_.config;
  sequence.topic = options_.topic;
  if (options_.partition_mode == PartitionMode::kFixed) sequence.partition = options_.partition;
  sequence_ = std::make_unique<data::OutputSequence>(std::move(sequence));
}

KafkaPredictionsCallback::~KafkaPredictionsCallback() = default;

void KafkaPredictionsCallback::on_predict_batch_end(const data::Batch& batch,
                                                    const model::Predictions& predictions) {
  model::PredictionFormat format;
  format.include_source = options_.include_source;
  for (size_t row = 0; row < predictions.size; ++row) {
    const data::RecordMeta* meta = row < batch.meta.size() ? &batch.meta[row] : nullptr;
    data::OutputItem item;
    item.value = options_.encoding == PredictionEncoding::kJson ? model::format_json(predictions, row, meta, format)
                                                                : model::format_csv(predictions, row, meta, format);
    if (meta != nullptr) {
      if (meta->has_key) item.key = meta->key;
      item.headers = source_headers(*meta);
      if (options_.partition_mode == PartitionMode::kSource && meta->partition >= 0) item.partition = meta->partition;
    }
    sequence_->set(next_index_++, std::move(item));
  }
}

void KafkaPredictionsCallback::on_train_end(TrainContext& context, const Logs& logs) { flush(); }

void KafkaPredictionsCallback::flush(kafka::milliseconds timeout) { sequence_->flush(timeout); }

}  // namespace streamml::train
