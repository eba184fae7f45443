// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// An epoch trained from Kafka (a bounded KafkaDataset over the embedded
// cluster, CSV records decoded on its prefetch thread) against the same epoch
// trained from an InMemorySource of the same rows: same model, same batches,
// same options, in one run. Prints records/s of both (medians of kRuns
// interleaved runs, the order alternating, each source alive only during its
// own epoch) and the ratio; the goal is >= 0.9 (the stream is not the
// bottleneck). Final line: RESULT train_kafka_vs_memory ratio=<x> (ratio of
// the medians) run_ratio_median=<y> (median of the per-run ratios, steadier on
// a busy machine) and the rates.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "streamml/common/logging.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "streamml/model/model.h"
#include "streamml/train/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kFeatures = 16;
constexpr size_t kPartitions = 3;
constexpr size_t kRows = 60000;  // 20000 per partition (the embedded cluster keeps ~5 MiB each)
constexpr size_t kBatch = 64;
constexpr int kRuns = 5;

struct Data {
  std::vector<std::string> records;  // CSV: f0..f15,y
  std::vector<float> features;       // the same values, as decoded
  std::vector<float> labels;
};

Data make_data() {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Data d;
  for (size_t r = 0; r < kRows; ++r) {
    std::string line;
    float score = 0;
    for (size_t f = 0; f < kFeatures; ++f) {
      std::string text = fmt::format("{:.4f}", normal(rng));
      const float x = std::stof(text);
      d.features.push_back(x);
      score += (f % 2 ? 1.0f : -0.5f) * x;
      line += text + ",";
    }
    const float y = score > 0 ? 1.0f : 0.0f;
    d.labels.push_back(y);
    line += y > 0 ? "1" : "0";
    d.records.push_back(std::move(line));
  }
  return d;
}

std::string decoder_spec() {
  std::string names;
  for (size_t f = 0; f < kFeatures; ++f) names += "f" + std::to_string(f) + "+";
  return "csv:names=" + names + "y,label=y";
}

// Records per second of one epoch of a fresh model (seeded: identical runs).
double epoch_rate(streamml::data::BatchSource& source) {
  streamml::model::ModelConfig c;
  c.task = streamml::model::Task::binary();
  c.features.num_features = kFeatures;
  c.spec = streamml::model::parse_model_spec("mlp:64,32");
  streamml::model::Model model = streamml::model::Model::create(c);
  streamml::train::TrainOptions options;
  options.epochs = 1;
  options.stats_mode = streamml::train::StatsMode::kFirstBatch;
  streamml::train::Trainer trainer(model, options);
  auto start = Clock::now();
  streamml::train::History history = trainer.fit(source);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (history.records != static_cast<int64_t>(kRows)) {
    std::fprintf(stderr, "epoch saw %lld records, expected %zu\n", static_cast<long long>(history.records), kRows);
    std::exit(1);
  }
  return static_cast<double>(kRows) / seconds;
}

// Records per second of reading and decoding one epoch without training:
// the ceiling of the Kafka path.
double read_rate(streamml::data::BatchSource& source) {
  auto start = Clock::now();
  size_t rows = 0;
  while (auto batch = source.next()) rows += batch->size;
  return static_cast<double>(rows) / std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  streamml::set_log_level(streamml::LogLevel::kWarn);
  Data data = make_data();
  streamml::kafka::EmbeddedCluster cluster;
  cluster.create_topic("bench-train", static_cast<int>(kPartitions));
  streamml::kafka::Config config{{"bootstrap.servers", cluster.bootstrap_servers()}};
  {
    streamml::kafka::Producer producer(config);
    // Rows in partition order, so the dataset (which reads partition 0, 1, 2
    // in turn) yields exactly the in-memory order.
    for (size_t i = 0; i < data.records.size(); ++i) {
      streamml::kafka::ProduceRecord p;
      p.topic = "bench-train";
      p.partition = static_cast<int32_t>(i / (kRows / kPartitions));
      p.value = data.records[i];
      if (producer.produce(p)) return 1;
    }
    if (!producer.flush().ok()) return 1;
  }
  std::vector<double> kafka_rates, memory_rates, read_rates;
  for (int run = 0; run < kRuns; ++run) {
    streamml::data::KafkaDatasetOptions options;
    options.config = config;
    options.ranges = {"bench-train"};
    options.decoder = decoder_spec();
    options.batch_size = kBatch;
    // Each source lives only for its own epoch (no idle consumer during the
    // memory epoch), and the order alternates between runs so that neither
    // side always runs first.
    auto kafka_epoch = [&] {
      streamml::data::KafkaDataset kafka_source(options);
      kafka_rates.push_back(epoch_rate(kafka_source));
    };
    auto memory_epoch = [&] {
      streamml::data::InMemorySource memory_source(data.features, kFeatures, data.labels, 1, {.batch_size = kBatch});
      memory_rates.push_back(epoch_rate(memory_source));
    };
    if (run % 2 == 0) {
      kafka_epoch();
      memory_epoch();
    } else {
      memory_epoch();
      kafka_epoch();
    }
    {
      streamml::data::KafkaDataset read_source(options);
      read_rates.push_back(read_rate(read_source));
    }
    std::printf("run %d: kafka %.0f records/s, memory %.0f records/s, ratio %.3f\n", run + 1, kafka_rates.back(),
                memory_rates.back(), kafka_rates.back() / memory_rates.back());
    std::fflush(stdout);
  }
  const double kafka = median(kafka_rates), memory = median(memory_rates);
  std::printf("epoch of %zu records, %zu features, batch %zu, mlp:64,32 (median of %d runs)\n", kRows, kFeatures,
              kBatch, kRuns);
  std::printf("kafka:  %.0f records/s\nmemory: %.0f records/s\n", kafka, memory);
  std::printf("kafka read+decode only (no training): %.0f records/s\n", median(read_rates));
  std::vector<double> run_ratios;
  for (size_t i = 0; i < kafka_rates.size(); ++i) run_ratios.push_back(kafka_rates[i] / memory_rates[i]);
  std::printf("RESULT train_kafka_vs_memory ratio=%.3f run_ratio_median=%.3f kafka_rec_per_s=%.0f memory_rec_per_s=%.0f "
              "read_rec_per_s=%.0f\n",
              kafka / memory, median(run_ratios), kafka, memory, median(read_rates));
  return 0;
}
