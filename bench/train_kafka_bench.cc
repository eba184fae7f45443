// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Is the stream the bottleneck of training? An epoch trained from Kafka (a
// bounded KafkaDataset over the embedded cluster, CSV records fetched and
// decoded on its prefetch thread) against the same epoch trained from an
// InMemorySource holding the same rows as decoded floats. Both sides use the
// same model (mlp:64,32, seeded), the same batches in the same order, the
// same TrainOptions and the same process-wide thread settings; each source is
// alive only during its own epoch (no idle consumer during the memory epoch).
//
// Measurement: kRows records (kPartitions partitions of kRowsPerPartition,
// inside the embedded cluster's ~5 MiB per partition), kRuns rounds; each
// round runs one Kafka epoch and one memory epoch, in alternating order, then
// one read+decode-only pass over the Kafka dataset (the stream's ceiling).
// Every epoch is a full Trainer::fit (model creation and first-batch
// statistics included, like a user's fit); the timed span is fit() itself.
// Per epoch it records: wall rate, process CPU time per record (all threads:
// trainer, prefetch, librdkafka, mock broker), the training thread's CPU time
// per record, how long the training thread waited inside next(), and how often
// it was preempted (involuntary context switches). Medians of the kRuns rounds
// are printed per side.
//
// Final line: RESULT train_kafka_vs_memory ratio=<x> (ratio of the median
// rates; goal >= 0.9: the stream is not the bottleneck) run_ratio_median=<y>
// (median of the per-round ratios, steadier on a busy machine), the rates, the
// CPU microseconds per record of each side, and LibTorch's intra-op thread
// count (the same for both sides; OMP_NUM_THREADS sets it). The load average
// before and after is printed too: the machine may be shared.
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
constexpr size_t kPartitions = 6;
constexpr size_t kRowsPerPartition = 30000;  // ~3.6 MB of CSV (the embedded cluster keeps ~5 MiB)
constexpr size_t kRows = kPartitions * kRowsPerPartition;
constexpr size_t kBatch = 64;
constexpr int kRuns = 7;

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

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long involuntary_switches() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nivcsw;
}

// Forwards to a source and adds up the wall time the caller spent in next():
// for the Kafka side, the time training waited for the stream.
class TimedSource final : public streamml::data::BatchSource {
 public:
  explicit TimedSource(streamml::data::BatchSource& inner) : inner_(inner) {}
  std::optional<streamml::data::Batch> next() override {
    const auto start = Clock::now();
    auto batch = inner_.next();
    waited_ += std::chrono::duration<double>(Clock::now() - start).count();
    return batch;
  }
  void reset() override { inner_.reset(); }
  void commit() override { inner_.commit(); }
  size_t num_features() const override { return inner_.num_features(); }
  size_t num_labels() const override { return inner_.num_labels(); }
  std::vector<std::string> feature_names() const override { return inner_.feature_names(); }
  double waited() const { return waited_; }

 private:
  streamml::data::BatchSource& inner_;
  double waited_ = 0;
};

struct Epoch {
  double rate = 0;           // records/s (wall)
  double process_us = 0;     // CPU microseconds per record, all threads
  double trainer_us = 0;     // CPU microseconds per record, the training thread
  double wait_ms = 0;        // training thread's time inside next()
  double preemptions = 0;    // involuntary context switches of the training thread
};

// One epoch of a fresh model (seeded: identical runs) on `source`.
Epoch train_epoch(streamml::data::BatchSource& source) {
  streamml::model::ModelConfig c;
  c.task = streamml::model::Task::binary();
  c.features.num_features = kFeatures;
  c.spec = streamml::model::parse_model_spec("mlp:64,32");
  streamml::model::Model model = streamml::model::Model::create(c);
  streamml::train::TrainOptions options;
  options.epochs = 1;
  options.stats_mode = streamml::train::StatsMode::kFirstBatch;
  streamml::train::Trainer trainer(model, options);
  TimedSource timed(source);
  const long switches = involuntary_switches();
  const double process = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  const double thread = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  const auto start = Clock::now();
  streamml::train::History history = trainer.fit(timed);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Epoch e;
  e.process_us = (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process) * 1e6 / kRows;
  e.trainer_us = (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread) * 1e6 / kRows;
  e.preemptions = static_cast<double>(involuntary_switches() - switches);
  e.wait_ms = timed.waited() * 1e3;
  e.rate = static_cast<double>(kRows) / seconds;
  if (history.records != static_cast<int64_t>(kRows)) {
    std::fprintf(stderr, "epoch saw %lld records, expected %zu\n", static_cast<long long>(history.records), kRows);
    std::exit(1);
  }
  return e;
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

template <typename F>
double median_of(const std::vector<Epoch>& epochs, F field) {
  std::vector<double> v;
  for (const Epoch& e : epochs) v.push_back(field(e));
  return median(v);
}

void print_side(const char* name, const std::vector<Epoch>& epochs) {
  std::printf("%-7s %9.0f records/s  CPU %5.2f us/record (training thread %5.2f)  waited in next() %6.1f ms  "
              "preempted %4.0f times\n",
              name, median_of(epochs, [](const Epoch& e) { return e.rate; }),
              median_of(epochs, [](const Epoch& e) { return e.process_us; }),
              median_of(epochs, [](const Epoch& e) { return e.trainer_us; }),
              median_of(epochs, [](const Epoch& e) { return e.wait_ms; }),
              median_of(epochs, [](const Epoch& e) { return e.preemptions; }));
}

std::string load_average() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

}  // namespace

int main() {
  streamml::set_log_level(streamml::LogLevel::kWarn);
  std::printf("load average before: %s; intra-op threads: %d\n", load_average().c_str(), at::get_num_threads());
  Data data = make_data();
  streamml::kafka::EmbeddedCluster cluster;
  cluster.create_topic("bench-train", static_cast<int>(kPartitions));
  streamml::kafka::Config config{{"bootstrap.servers", cluster.bootstrap_servers()}};
  {
    streamml::kafka::Producer producer(config);
    // Rows in partition order, so the dataset (which reads partition 0, 1, ...
    // in turn) yields exactly the in-memory order.
    for (size_t i = 0; i < data.records.size(); ++i) {
      streamml::kafka::ProduceRecord p;
      p.topic = "bench-train";
      p.partition = static_cast<int32_t>(i / kRowsPerPartition);
      p.value = data.records[i];
      if (producer.produce(p)) return 1;
    }
    if (!producer.flush().ok()) return 1;
  }
  streamml::data::KafkaDatasetOptions options;
  options.config = config;
  options.ranges = {"bench-train"};
  options.decoder = decoder_spec();
  options.batch_size = kBatch;

  std::vector<Epoch> kafka_epochs, memory_epochs;
  std::vector<double> read_rates;
  for (int run = 0; run < kRuns; ++run) {
    auto kafka_epoch = [&] {
      streamml::data::KafkaDataset kafka_source(options);
      kafka_epochs.push_back(train_epoch(kafka_source));
    };
    auto memory_epoch = [&] {
      streamml::data::InMemorySource memory_source(data.features, kFeatures, data.labels, 1, {.batch_size = kBatch});
      memory_epochs.push_back(train_epoch(memory_source));
    };
    // The order alternates so that neither side always runs first.
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
    const Epoch& k = kafka_epochs.back();
    const Epoch& m = memory_epochs.back();
    std::printf("run %d: kafka %.0f records/s (%.2f us CPU/record, waited %.1f ms), memory %.0f records/s (%.2f us "
                "CPU/record), ratio %.3f\n",
                run + 1, k.rate, k.process_us, k.wait_ms, m.rate, m.process_us, k.rate / m.rate);
    std::fflush(stdout);
  }
  const double kafka = median_of(kafka_epochs, [](const Epoch& e) { return e.rate; });
  const double memory = median_of(memory_epochs, [](const Epoch& e) { return e.rate; });
  std::vector<double> run_ratios;
  for (size_t i = 0; i < kafka_epochs.size(); ++i) run_ratios.push_back(kafka_epochs[i].rate / memory_epochs[i].rate);
  std::printf("epoch of %zu records (%zu partitions), %zu features, batch %zu, mlp:64,32; medians of %d rounds\n", kRows,
              kPartitions, kFeatures, kBatch, kRuns);
  print_side("kafka:", kafka_epochs);
  print_side("memory:", memory_epochs);
  std::printf("kafka read+decode only (no training): %.0f records/s\n", median(read_rates));
  std::printf("load average after: %s\n", load_average().c_str());
  std::printf(
      "RESULT train_kafka_vs_memory ratio=%.3f run_ratio_median=%.3f kafka_rec_per_s=%.0f memory_rec_per_s=%.0f "
      "read_rec_per_s=%.0f kafka_cpu_us_per_rec=%.2f memory_cpu_us_per_rec=%.2f intra_op_threads=%d\n",
      kafka / memory, median(run_ratios), kafka, memory, median(read_rates),
      median_of(kafka_epochs, [](const Epoch& e) { return e.process_us; }),
      median_of(memory_epochs, [](const Epoch& e) { return e.process_us; }), at::get_num_threads());
  return 0;
}
