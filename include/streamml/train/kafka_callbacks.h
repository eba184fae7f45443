// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Callbacks that write to Kafka:
//   * KafkaMetricsCallback: the events of MetricsLog (metrics_log.h) to a
//     topic, one JSON object per record: train_begin, one per epoch (and
//     optionally every N steps), and train_end with epochs_run and
//     stop_reason, e.g.
//       {"event":"epoch","epoch":0,"step":100,"records":3200,"elapsed_s":1.6,"loss":0.35,"val_loss":0.36}
//     Every record of a run has the run's id as its key, so a run stays in
//     one partition, in order. Non-finite values are written as null.
//     Drifts of online learning are events too ("event":"drift").
//   * KafkaDriftCallback: only the drift events, to their own topic, keyed
//     by the run id, e.g.
//       {"event":"drift","time":"2026-...","topic":"sea","partition":0,"offset":4191,"detector":"adwin",
//        "statistic":0.21,...}
//   * KafkaPredictionsCallback: every prediction of a prediction loop
//     (train::predict, online learning) to a topic through an
//     OutputSequence, in input order, as JSON or CSV (model/predictions.h),
//     with the input record's key and the headers
//     streamml.source.topic/partition/offset (data/dead_letter.h), so every
//     prediction can be joined to its input.
// Both flush at the end of training/prediction (flush()) and report
// delivery failures as kafka::KafkaException. Not thread-safe (the loop's thread).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include "streamml/kafka/config.h"
#include "streamml/kafka/types.h"
#include "streamml/train/callback.h"

namespace streamml::kafka {
class Producer;
}  // namespace streamml::kafka
namespace streamml::data {
class OutputSequence;
}  // namespace streamml::data

namespace streamml::train {

struct KafkaMetricsOptions {
  kafka::Config config;     // bootstrap.servers and producer properties
  std::string topic;        // destination topic (required)
  std::string key;          // run id: key of every record and train_begin's run_id ("" = null key)
  int64_t every_steps = 0;  // also write a "batch" event every N steps; 0: epochs only
};

class KafkaMetricsCallback final : public Callback {
 public:
  // Throws ConfigError for an empty topic or every_steps < 0.
  explicit KafkaMetricsCallback(KafkaMetricsOptions options);
  ~KafkaMetricsCallback() override;
  void on_train_begin(TrainContext& context) override;
  void on_batch_end(TrainContext& context, int64_t step, const Logs& logs) override;
  void on_epoch_end(TrainContext& context, int epoch, const Logs& logs) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;
  void on_drift(TrainContext& context, const DriftEvent& event) override;
  // Writes one event now: {"event":<event>,"epoch":..,"step":..,"records":..,<logs>}.
  void write_event(const std::string& event, const TrainContext& context, const Logs& logs);
  // Waits for delivery; throws kafka::KafkaException naming the topic on failure.
  void flush(kafka::milliseconds timeout = kafka::kDefaultFlushTimeout);
  int64_t written() const { return written_; }

 private:
  void write_line(const std::string& line);
  double elapsed_s() const;

  KafkaMetricsOptions options_;
  std::unique_ptr<kafka::Producer> producer_;
  int64_t written_ = 0;
  int epochs_written_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct KafkaDriftOptions {
  kafka::Config config;  // bootstrap.servers and producer properties
  std::string topic;     // destination topic (required)
  std::string key;       // run id: key of every record and its run_id ("" = null key, no run_id)
};

class KafkaDriftCallback final : public Callback {
 public:
  // Throws ConfigError for an empty topic.
  explicit KafkaDriftCallback(KafkaDriftOptions options);
  ~KafkaDriftCallback() override;
  void on_drift(TrainContext& context, const DriftEvent& event) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;
  // Waits for delivery; throws kafka::KafkaException naming the topic on failure.
  void flush(kafka::milliseconds timeout = kafka::kDefaultFlushTimeout);
  int64_t written() const { return written_; }

 private:
  KafkaDriftOptions options_;
  std::unique_ptr<kafka::Producer> producer_;
  int64_t written_ = 0;
};

// How predictions are rendered.
enum class PredictionEncoding { kJson, kCsv };

// Parses "json|csv"; throws ConfigError naming the value.
PredictionEncoding parse_prediction_encoding(const std::string& name);

// Which partition a prediction goes to.
enum class PartitionMode {
  kPartitioner,  // the producer's partitioner (by key; records of one key stay together)
  kSource,       // the input record's partition (the output topic needs as many partitions)
  kFixed,        // KafkaPredictionsOptions::partition
};

struct KafkaPredictionsOptions {
  kafka::Config config;                               // bootstrap.servers and producer properties
  std::string topic;                                  // destination topic (required)
  PredictionEncoding encoding = PredictionEncoding::kJson;  // record format
  bool include_source = false;                        // also put topic/partition/offset/key in the payload
  PartitionMode partition_mode = PartitionMode::kPartitioner;  // see PartitionMode
  int32_t partition = 0;                              // with kFixed
};

class KafkaPredictionsCallback final : public Callback {
 public:
  // Throws ConfigError for an empty topic or a negative fixed partition.
  explicit KafkaPredictionsCallback(KafkaPredictionsOptions options);
  ~KafkaPredictionsCallback() override;
  void on_predict_batch_end(const data::Batch& batch, const model::Predictions& predictions) override;
  void on_train_end(TrainContext& context, const Logs& logs) override;
  // Waits for delivery; throws kafka::KafkaException naming the topic and the first
  // failed prediction on failure.
  void flush(kafka::milliseconds timeout = kafka::kDefaultFlushTimeout);
  // Predictions handed to the output sequence so far.
  int64_t written() const { return next_index_; }

 private:
  KafkaPredictionsOptions options_;
  std::unique_ptr<data::OutputSequence> sequence_;
  int64_t next_index_ = 0;
};

// Header names and values that tie an output record to its input.
kafka::Headers source_headers(const data::RecordMeta& meta);

}  // namespace streamml::train
