// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Memory over a long stream (issue 3): a consumer-group KafkaDataset reads
// 10M small CSV records (3 features + a label) while they are being produced;
// its process's resident set must stay within +50 MB of its value once the
// stream is flowing (after the first batch).
//
// The embedded cluster and the producer run in a forked child process, so
// the broker's in-memory log (up to ~5 MiB per partition) is not counted
// against the dataset. The producer keeps at most kMaxLag records ahead of
// what the dataset has returned (a counter in shared memory), so retention
// never removes an unread record; the bench checks that exactly every
// produced record came back.
//
// scripts/bench.sh runs it 5 times like the others (~30 s a run on a quiet
// 2-core machine) and reports the median peak growth.
//
// Usage: data_memory_bench [--records N] [--runs N]
// Prints RSS samples and `RESULT data_memory key=value ...` lines.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "streamml/common/logging.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 4;
constexpr int64_t kMaxLag = 100'000;         // records produced but not yet returned
constexpr int64_t kSampleEvery = 250'000;    // records between RSS samples
constexpr int64_t kPrintEvery = 1'000'000;   // records between printed samples
constexpr double kLimitMb = 50.0;
constexpr const char* kTopic = "memory";

// Shared between the consumer (parent) and the broker/producer (child).
struct Shared {
  std::atomic<int64_t> returned{0};  // records the dataset has returned
  std::atomic<bool> done{false};     // the parent has finished reading
  char bootstrap[256] = {};
  std::atomic<bool> ready{false};    // bootstrap is set
  std::atomic<int64_t> produced{0};
  std::atomic<bool> failed{false};
};

double rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Child: the embedded cluster and a producer that stays within kMaxLag.
int run_broker(Shared& shared, int64_t records) {
  try {
    streamml::set_log_level(streamml::LogLevel::kWarn);
    streamml::kafka::EmbeddedCluster cluster;
    cluster.create_topic(kTopic, kPartitions);
    std::snprintf(shared.bootstrap, sizeof(shared.bootstrap), "%s", cluster.bootstrap_servers().c_str());
    shared.ready = true;
    streamml::kafka::Producer producer({{"bootstrap.servers", cluster.bootstrap_servers()}, {"linger.ms", "20"}});
    char value[64];
    for (int64_t i = 0; i < records; ++i) {
      if (i - shared.returned.load() >= kMaxLag) {
        // Wait until half the lag is read, then produce a burst: bursts give
        // the broker large message sets (the mock serves one per fetch).
        while (i - shared.returned.load() > kMaxLag / 2) {
          if (shared.done) return 1;
          producer.poll(std::chrono::milliseconds(1));
        }
      }
      int n = std::snprintf(value, sizeof(value), "%.3f,%.3f,%.3f,%d", (i % 1000) * 0.001, (i % 77) * 0.5,
                            (i % 13) * 0.25, static_cast<int>(i % 2));
      streamml::kafka::ProduceRecord rec;
      rec.topic = kTopic;
      rec.partition = static_cast<int32_t>(i % kPartitions);
      rec.value = std::string_view(value, static_cast<size_t>(n));
      if (auto err = producer.produce(rec)) throw std::runtime_error("produce: " + err.message());
      shared.produced = i + 1;
      if (i % 1024 == 0) producer.poll();  // serve delivery reports before the local queue fills
    }
    if (!producer.flush(std::chrono::seconds(60)).ok()) throw std::runtime_error("records not delivered");
    while (!shared.done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_memory_bench (broker): %s\n", e.what());
    shared.failed = true;
    return 1;
  }
}

struct RunResult {
  double start_mb = 0, peak_mb = 0, end_mb = 0, seconds = 0;
  int64_t records = 0;
};

// Parent: one group dataset over the whole stream, sampling RSS.
RunResult run_consumer(Shared& shared, int64_t records, int run) {
  while (!shared.ready) {
    if (shared.failed) throw std::runtime_error("the broker process failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  streamml::data::KafkaDatasetOptions o;
  o.config.set("bootstrap.servers", shared.bootstrap);
  o.config.set("auto.offset.reset", "earliest");
  // What the embedded cluster needs (see EmbeddedCluster::apply_consumer_defaults).
  o.config.set("fetch.wait.max.ms", "1");
  o.config.set("session.timeout.ms", "6000");
  o.config.set("heartbeat.interval.ms", "1000");
  o.config.set("max.poll.interval.ms", "10000");
  o.group = "memory-bench-" + std::to_string(run);
  o.topics = {kTopic};
  o.decoder = "csv:columns=4,label=3";
  o.batch_size = 256;
  o.stream_timeout = std::chrono::milliseconds(20'000);
  streamml::data::KafkaDataset dataset(std::move(o));

  RunResult result;
  int64_t next_sample = kSampleEvery, next_print = kPrintEvery, since_commit = 0;
  auto t0 = Clock::now();
  while (auto batch = dataset.next()) {
    if (result.records == 0) {
      result.start_mb = rss_mb();
      result.peak_mb = result.start_mb;
      t0 = Clock::now();
      std::printf("# run %d rss records=0 rss_mb=%.1f (start)\n", run, result.start_mb);
    }
    result.records += static_cast<int64_t>(batch->size);
    since_commit += static_cast<int64_t>(batch->size);
    shared.returned = result.records;
    if (since_commit >= 100'000) {  // a training loop commits after its steps
      dataset.commit();
      since_commit = 0;
    }
    if (result.records >= next_sample) {
      next_sample += kSampleEvery;
      const double mb = rss_mb();
      result.peak_mb = std::max(result.peak_mb, mb);
      if (result.records >= next_print) {
        next_print += kPrintEvery;
        std::printf("# run %d rss records=%lld rss_mb=%.1f growth_mb=%+.1f (produced %lld)\n", run,
                    static_cast<long long>(result.records), mb, mb - result.start_mb,
                    static_cast<long long>(shared.produced.load()));
        std::fflush(stdout);
      }
    }
    if (result.records >= records) break;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  dataset.commit();
  result.end_mb = rss_mb();
  result.peak_mb = std::max(result.peak_mb, result.end_mb);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t records = 10'000'000;
  int runs = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--records" || a == "--runs") && i + 1 < argc) {
      if (a == "--records") {
        records = std::stoll(argv[++i]);
      } else {
        runs = std::stoi(argv[++i]);
      }
    } else {
      std::fprintf(stderr, "usage: data_memory_bench [--records N] [--runs N]\n");
      return 2;
    }
  }
  if (records < 1 || runs < 1) {
    std::fprintf(stderr, "data_memory_bench: --records and --runs must be >= 1\n");
    return 2;
  }
  std::printf("# data_memory: %lld records per run through a group KafkaDataset, %d partitions, %d run(s)\n",
              static_cast<long long>(records), kPartitions, runs);
  std::vector<double> growths, rates;
  double worst_growth = 0, start_mb = 0, peak_mb = 0;
  for (int run = 1; run <= runs; ++run) {
    void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      std::perror("mmap");
      return 1;
    }
    Shared* shared = new (mem) Shared();
    std::fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
      std::perror("fork");
      return 1;
    }
    if (child == 0) _exit(run_broker(*shared, records));
    RunResult r;
    int status = 0;
    try {
      r = run_consumer(*shared, records, run);
    } catch (const std::exception& e) {
      shared->done = true;
      waitpid(child, &status, 0);
      std::fprintf(stderr, "data_memory_bench: %s\n", e.what());
      return 1;
    }
    shared->done = true;
    waitpid(child, &status, 0);
    const int64_t produced = shared->produced.load();
    munmap(mem, sizeof(Shared));
    if (r.records != records || produced != records) {
      std::fprintf(stderr, "data_memory_bench: produced %lld records, the dataset returned %lld\n",
                   static_cast<long long>(produced), static_cast<long long>(r.records));
      return 1;
    }
    const double growth = r.peak_mb - r.start_mb;
    std::printf("# run %d: %lld records in %.1f s (%.0f rec/s), start %.1f MB, peak %.1f MB, end %.1f MB, "
                "growth %+.1f MB\n",
                run, static_cast<long long>(r.records), r.seconds, r.records / r.seconds, r.start_mb, r.peak_mb,
                r.end_mb, growth);
    std::fflush(stdout);
    growths.push_back(growth);
    rates.push_back(r.records / r.seconds);
    if (growth >= worst_growth || run == 1) {
      worst_growth = growth;
      start_mb = r.start_mb;
      peak_mb = r.peak_mb;
    }
  }
  std::sort(growths.begin(), growths.end());
  std::sort(rates.begin(), rates.end());
  std::printf("RESULT data_memory records=%lld runs=%d start_mb=%.1f peak_mb=%.1f growth_mb=%.1f "
              "median_growth_mb=%.1f rec_per_s=%.0f limit_mb=%.0f verdict=%s\n",
              static_cast<long long>(records), runs, start_mb, peak_mb, worst_growth, growths[growths.size() / 2],
              rates[rates.size() / 2], kLimitMb, worst_growth <= kLimitMb ? "pass" : "fail");
  return worst_growth <= kLimitMb ? 0 : 1;
}
