// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve benchmark: streamml serve (serve::Server, in this process) against
// two Python loops (bench/python_baseline.py), on the same broker (an
// embedded cluster in this process, or -b host:port), the same TorchScript
// model (written by the Python script and wrapped by
// Model::from_torchscript) and the same records, in one run:
//   * the tuned loop a careful Python user writes (the primary baseline:
//     consume(500), one NumPy parse and one model call per batch, produce()
//     per record, an asynchronous commit per batch);
//   * the Kafka-ML-style loop (one message at a time, a flush and a
//     synchronous commit every 16), the second row.
// Two workloads, each measured for all three services:
//   small  4 float features (~25 B CSV), MLP 4 -> 64 -> 32 -> 3 (multiclass);
//          RESULT names without a suffix;
//   wide   30 float features (~240 B CSV), MLP 30 -> 64 -> 32 -> 1
//          (regression); RESULT names end in _wide.
// Per workload:
//   * latency at a steady offered load (default 5,000 records/s, sent in 1 ms
//     ticks), after a warm-up, two ways:
//       serve_latency      input sent -> output acknowledged by the broker
//                          (the end-to-end latency of /metrics, timed in µs
//                          through ServerOptions::on_acknowledged);
//       *_read_latency     input sent -> output read by one downstream
//                          reader, the same for every service (adds that
//                          reader's fetch: on the embedded cluster ~1 ms, as
//                          it answers a fetch only when fetch.wait.max.ms
//                          expires); the Python comparisons use this one;
//     the small workload also with --busy-fetch (serve_*_busy_fetch: the
//     consumer fetches again at once instead of letting the embedded broker
//     hold an empty fetch), each with the CPU the whole process (broker,
//     service, load generator, reader) used per second while idle before
//     the load started (idle_cpu_cores);
//   * saturated throughput: a preloaded backlog drained as fast as possible,
//     records/s from the first to the last output, and the CPU time of all
//     of it per record (median of --runs runs; see drain_run()).
// The process allocates as `streamml serve` does: it links jemalloc as the
// CLI does (STREAMML_JEMALLOC; without it, glibc's malloc tuned by
// streamml::tune_allocator(), common/allocator.h, as the CLI then does;
// --default-allocator leaves glibc's malloc untuned). The Python loops run in
// their own processes, with Python's allocators, either way.
// Prints `RESULT serve_<name> key=value ...` lines. SERVE_BENCH_VERBOSE=1 adds
// serve's metrics lines and, per drain, the CPU share of each thread.
//
// Usage: serve_latency_bench [--rate 5000] [--seconds 12] [--warmup 2] [--load-linger-ms 0.2]
//          [--records 300000] [--tuned-records 150000] [--python-records 20000] [--runs 5]
//          [--workload small|wide|both] [--no-python] [--no-latency]
//          [--max-batch N] [--max-wait-us U] [--max-in-flight N] [--busy-fetch | --no-busy-fetch]
//          [-X key=value]... [--default-allocator]
//          [-b bootstrap]
// (--max-*, --busy-fetch and -X tune streamml serve only; the defaults are
// serve's own. --busy-fetch or --no-busy-fetch: one latency phase, with or
// without busy fetch, instead of both. --records, --tuned-records and
// --python-records are the backlogs of streamml, the tuned loop and the
// Kafka-ML loop.)
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "streamml/common/allocator.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "streamml/model/model.h"
#include "streamml/serve/metrics.h"
#include "streamml/serve/model_processor.h"
#include "streamml/serve/server.h"

extern char** environ;

namespace {

using namespace streamml;
using Clock = std::chrono::steady_clock;

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Args {
  std::string bootstrap;
  int rate = 5000;
  int seconds = 12;
  int warmup = 2;
  std::string load_linger_ms = "0.2";  // the load generator's linger.ms (paced_run())
  int records = 300000;
  int tuned_records = 150000;
  int python_records = 20000;
  int runs = 5;
  std::string workload = "both";
  bool python = true;
  bool latency = true;     // --no-latency: throughput only (for profiling)
  bool busy_fetch_given = false;  // --busy-fetch or --no-busy-fetch: one latency phase, not both
  bool tune_allocator = true;     // --default-allocator: leave glibc's malloc as it is
  std::vector<std::pair<std::string, std::string>> extra;  // -X properties for serve's clients
  serve::ServerOptions server;  // max_batch, max_wait_us, max_in_flight: serve's defaults unless given
};

// The records and model of one workload.
struct Workload {
  std::string suffix;      // of its RESULT names
  int features = 0;
  int classes = 0;         // model outputs; 1: regression
  int partitions = 8;      // of the throughput topics (keeps each under the embedded cluster's ~5 MiB
                           // per partition for 300k records)
  std::vector<std::string> rows;  // 1,000 distinct CSV rows, sent round-robin
  std::string model_pt;    // TorchScript, written by the Python script
  std::string model_smlm;  // the same module as a streamml model file
};

std::vector<std::string> make_rows(int features) {
  std::vector<std::string> rows;
  for (int i = 0; i < 1000; ++i) {
    std::string row;
    char buf[32];
    for (int f = 0; f < features; ++f) {
      // Plain decimals of a few magnitudes, as sensor or feature-store values look.
      const double v = features <= 4 ? (f == 0   ? 0.1 * (i % 17) - 0.5
                                        : f == 1 ? 0.03 * (i % 29)
                                        : f == 2 ? -0.2 * (i % 7)
                                                 : 1.0 + 0.01 * (i % 101))
                                     : ((i * 31 + f * 17) % 2000) / 100.0 - 10.0 + f * 0.0137;
      std::snprintf(buf, sizeof(buf), features <= 4 ? "%.3f" : "%.4f", v);
      if (f > 0) row += ',';
      row += buf;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

int g_topic_counter = 0;
std::string new_topic(const std::string& bootstrap, const std::string& prefix, int partitions) {
  const std::string name = prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++g_topic_counter);
  kafka::Admin admin(kafka::Config{{"bootstrap.servers", bootstrap}});
  admin.create_topics({kafka::NewTopic{name, partitions, 1, {}}});
  admin.wait_for_topic(name);
  return name;
}

// Something that serves `in` -> `out` as group `group`: streamml or Python.
class Service {
 public:
  virtual ~Service() = default;
  // CPU seconds the service used outside this process so far (a child's).
  virtual double external_cpu_seconds() const { return 0; }
};

// When each input offset's output was acknowledged (wall clock, µs), from
// ServerOptions::on_acknowledged on serve's delivery thread.
class AckLog {
 public:
  void add(int64_t input_offset) {
    const int64_t now = wall_us();
    std::lock_guard lock(mu_);
    acks_.push_back({input_offset, now});
  }
  std::vector<std::pair<int64_t, int64_t>> take() {
    std::lock_guard lock(mu_);
    return acks_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> acks_;  // (input offset, ack µs), guarded by mu_
};

class StreammlService : public Service {
 public:
  StreammlService(const Args& a, const std::string& model, const std::string& in, const std::string& out,
                  const std::string& group, AckLog* acks = nullptr)
      : server_(options(a, in, out, group, acks),
                serve::model_processor_factory({model, serve::OutputFormat::kJson, ""})) {
    thread_ = std::thread([this] {
      try {
        server_.run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "serve failed: %s\n", e.what());
      }
    });
  }
  ~StreammlService() override {
    server_.stop();
    thread_.join();
  }
  serve::Server& server() { return server_; }

 private:
  static serve::ServerOptions options(const Args& a, const std::string& in, const std::string& out,
                                      const std::string& group, AckLog* acks) {
    serve::ServerOptions o = a.server;
    if (acks != nullptr) {
      o.on_acknowledged = [acks](const kafka::TopicPartitionOffset& input, int64_t) { acks->add(input.offset); };
    }
    o.input_topics = {in};
    o.output_topic = out;
    o.group = group;
    o.metrics_interval_ms = std::getenv("SERVE_BENCH_VERBOSE") ? 1000 : 0;
    o.kafka = kafka::Config{{"bootstrap.servers", a.bootstrap}};
    for (const auto& [k, v] : a.extra) o.kafka.set(k, v);
    return o;
  }
  serve::Server server_;
  std::thread thread_;
};

class PythonService : public Service {
 public:
  PythonService(const Args& a, const std::string& script, const std::string& loop, const Workload& w,
                const std::string& in, const std::string& out, const std::string& group) {
    std::vector<std::string> args = {"/usr/bin/python3", script, "serve", "--loop", loop,
                                     "-b", a.bootstrap, "--model", w.model_pt, "--features",
                                     std::to_string(w.features), "--input", in, "--output", out, "-G", group};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~PythonService() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return pid_ > 0; }
  double external_cpu_seconds() const override {
    // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks.
    std::FILE* f = std::fopen(("/proc/" + std::to_string(pid_) + "/stat").c_str(), "r");
    if (f == nullptr) return 0;
    char buf[1024] = {};
    const size_t len = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
    if (p == nullptr || len == 0) return 0;
    unsigned long utime = 0, stime = 0;
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return 0;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

 private:
  pid_t pid_ = -1;
};

// Reads outputs and records, per output with a key "L<send_us>", its latency.
class OutputWatcher {
 public:
  OutputWatcher(const std::string& bootstrap, const std::string& topic, int partitions) {
    kafka::Config c{{"bootstrap.servers", bootstrap}, {"fetch.wait.max.ms", "1"}};
    consumer_ = std::make_unique<kafka::Consumer>(c);
    std::vector<kafka::TopicPartitionOffset> parts;
    for (int p = 0; p < partitions; ++p) parts.push_back({topic, p, kafka::kOffsetBeginning});
    consumer_->assign(parts);
    thread_ = std::thread([this] { loop(); });
  }
  ~OutputWatcher() {
    stop_ = true;
    thread_.join();
  }
  int64_t count() const { return count_.load(); }
  // Outputs of wait_ready()'s probes (not in count(), time_of() or the latencies).
  int64_t probes() const { return probes_.load(); }
  // Time (steady) at which the n-th output arrived (n >= 1), or nullopt.
  std::optional<Clock::time_point> time_of(int64_t n) {
    std::lock_guard lock(mu_);
    if (n < 1 || static_cast<size_t>(n) > arrivals_.size()) return std::nullopt;
    return arrivals_[static_cast<size_t>(n - 1)];
  }
  // Latencies (us) of outputs whose input was sent at or after `from_us`.
  std::vector<int64_t> latencies_since(int64_t from_us) {
    std::lock_guard lock(mu_);
    std::vector<int64_t> out;
    for (const auto& [sent, lat] : latencies_) {
      if (sent >= from_us) out.push_back(lat);
    }
    return out;
  }

 private:
  void loop() {
    while (!stop_) {
      // poll() returns as soon as an output is there (poll_batch() would wait
      // out its timeout unless the batch is full, adding up to that much to
      // every latency); then take whatever else was fetched with it.
      std::vector<kafka::Message> msgs;
      if (kafka::Message first = consumer_->poll(kafka::milliseconds(1)); !first.empty()) {
        msgs.push_back(std::move(first));
        for (auto& m : consumer_->poll_batch(2048, kafka::milliseconds(0))) msgs.push_back(std::move(m));
      }
      const int64_t now = wall_us();
      const auto t = Clock::now();
      std::lock_guard lock(mu_);
      for (auto& m : msgs) {
        if (m.error()) continue;
        auto key = m.key();
        if (key == "probe") {
          ++probes_;
          continue;
        }
        arrivals_.push_back(t);
        if (key.size() > 1 && key[0] == 'L') {
          const int64_t sent = std::stoll(std::string(key.substr(1)));
          latencies_.push_back({sent, now - sent});
        }
        ++count_;
      }
    }
  }
  std::unique_ptr<kafka::Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> probes_{0};
  std::mutex mu_;
  std::vector<Clock::time_point> arrivals_;
  std::vector<std::pair<int64_t, int64_t>> latencies_;
};

// Waits until the service answers a probe (it joined its group).
bool wait_ready(const std::string& bootstrap, const std::string& in, const Workload& w, OutputWatcher& watcher) {
  kafka::Producer producer(kafka::Config{{"bootstrap.servers", bootstrap}, {"linger.ms", "0"}});
  const std::string& value = w.rows.front();
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    kafka::ProduceRecord r;
    r.topic = in;
    r.key = std::string_view("probe");
    r.value = value;
    producer.produce(r);
    producer.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (watcher.probes() > 0) return true;
  }
  return false;
}

struct LatencyResult {
  serve::LatencySummary summary;      // sent -> read by the watcher
  serve::LatencySummary ack_summary;  // sent -> acknowledged (streamml only: from its AckLog)
  double offered = 0;   // records/s actually sent
  double served = 0;    // fraction of measured records answered
  double idle_cpu_cores = 0;  // CPU seconds per second of this process while the service idled
};

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// CPU cores this process uses while nothing is sent for `seconds` (the
// service polling an empty topic, the reader, the broker).
double idle_cpu_cores(double seconds) {
  const double cpu = process_cpu_seconds();
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return (process_cpu_seconds() - cpu) / std::chrono::duration<double>(Clock::now() - start).count();
}

// Sends `rate` records/s for `seconds`; latencies of those sent after the
// warm-up.
LatencyResult paced_run(const Args& a, const Workload& w, const std::string& in, OutputWatcher& watcher,
                        AckLog* acks) {
  const int total = a.rate * a.seconds;
  // Send time (µs) of each record by its input offset, from the delivery
  // reports (the opaque is the record's index).
  std::vector<int64_t> sent_us(static_cast<size_t>(total), 0);
  std::mutex offsets_mu;
  std::map<int64_t, int64_t> sent_at_offset;  // guarded by offsets_mu
  // One batch per tick (see below): the tick's records are produced within
  // microseconds, so a linger this short gathers them. It counts in every
  // latency measured (each key holds the time before produce()).
  kafka::Producer producer(kafka::Config{{"bootstrap.servers", a.bootstrap}, {"linger.ms", a.load_linger_ms}},
                           [&](const kafka::DeliveryReport& r) {
                             if (!r.error.ok()) return;
                             std::lock_guard lock(offsets_mu);
                             sent_at_offset[r.offset] = sent_us[r.opaque];
                           });
  const auto start = Clock::now();
  const int64_t start_us = wall_us();
  const int64_t measure_from = start_us + int64_t{a.warmup} * 1'000'000;
  int64_t measured = 0;
  const std::vector<std::string>& rows = w.rows;
  // Paced in 1 ms ticks: each tick sends the records due by then, back to
  // back (5 per tick at 5,000/s), each keyed with its own send time. A wake-up
  // per record would make the load generator (and the broker answering one
  // produce request per record) the busiest thread of a 2-core machine.
  // Each tick's records travel as one batch (--load-linger-ms): the embedded
  // broker finds a fetch's offset by walking the partition's list of batches
  // from its start (librdkafka's mock keeps no index; a real broker does), so
  // with a batch per record (linger 0) the 4-feature topic held ~50,000
  // batches after 12 s and each 1 ms fetch walked them all: the broker
  // thread saturated and the p99 grew with the run (BENCHMARKS.md, issue 14).
  for (int i = 0; i < total;) {
    const auto now_steady = Clock::now();
    const int64_t due = std::min<int64_t>(
        total, std::chrono::duration_cast<std::chrono::microseconds>(now_steady - start).count() * a.rate / 1'000'000 + 1);
    for (; i < due; ++i) {
      const int64_t now = wall_us();
      const std::string key = "L" + std::to_string(now);
      kafka::ProduceRecord r;
      r.topic = in;
      r.key = std::string_view(key);
      r.value = rows[static_cast<size_t>(i % 1000)];
      r.opaque = static_cast<uint64_t>(i);
      sent_us[static_cast<size_t>(i)] = now;
      producer.produce(r);
      if (now >= measure_from) ++measured;
    }
    producer.poll();
    std::this_thread::sleep_until(now_steady + std::chrono::milliseconds(1));
  }
  producer.flush();
  const double elapsed = static_cast<double>(wall_us() - start_us) / 1e6;
  // Give the service time to answer what is in flight (a slow one keeps a backlog).
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline && static_cast<int64_t>(watcher.latencies_since(measure_from).size()) < measured) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  LatencyResult res;
  auto lat = watcher.latencies_since(measure_from);
  res.served = measured ? static_cast<double>(lat.size()) / static_cast<double>(measured) : 0;
  res.summary = serve::summarize_latencies(lat);
  res.offered = total / elapsed;
  if (acks != nullptr) {
    std::vector<int64_t> ack_lat;
    std::lock_guard lock(offsets_mu);
    for (const auto& [offset, ack] : acks->take()) {
      auto it = sent_at_offset.find(offset);
      if (it != sent_at_offset.end() && it->second >= measure_from) ack_lat.push_back(ack - it->second);
    }
    res.ack_summary = serve::summarize_latencies(ack_lat);
  }
  return res;
}

void preload(const std::string& bootstrap, const std::string& in, const Workload& w, int n) {
  // Large batches: the backlog should be in the log long before a service drains it.
  kafka::Producer producer(kafka::Config{{"bootstrap.servers", bootstrap},
                                         {"linger.ms", "20"},
                                         {"batch.size", "1000000"},
                                         {"batch.num.messages", "10000"}});
  const std::vector<std::string>& rows = w.rows;
  for (int i = 0; i < n; ++i) {
    const std::string key = "T" + std::to_string(i);
    kafka::ProduceRecord r;
    r.topic = in;
    r.key = std::string_view(key);
    r.value = rows[static_cast<size_t>(i % 1000)];
    producer.produce(r);
  }
  producer.flush();
}

// CPU ticks per thread of this process (tid -> (name, utime + stime)).
std::map<int, std::pair<std::string, long>> thread_ticks() {
  std::map<int, std::pair<std::string, long>> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::FILE* f = std::fopen((entry.path() / "stat").c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024] = {};
    const size_t len = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    const char* open = std::strchr(buf, '(');
    const char* close = std::strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (len == 0 || open == nullptr || close == nullptr ||
        std::sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
      continue;
    }
    out[std::stoi(entry.path().filename().string())] = {std::string(open + 1, close), static_cast<long>(utime + stime)};
  }
  return out;
}

// With SERVE_BENCH_VERBOSE: the CPU share of each thread name over a span.
void print_thread_cpu(const std::map<int, std::pair<std::string, long>>& before, double seconds) {
  std::map<std::string, double> by_name;
  for (const auto& [tid, now] : thread_ticks()) {
    auto it = before.find(tid);
    const long start = it != before.end() ? it->second.second : 0;
    // Threads streamml and the benchmark start keep the process's name: tell them apart by id.
    const std::string name = now.first.rfind("rdk:", 0) == 0 ? now.first : now.first + "/" + std::to_string(tid);
    by_name[name] += static_cast<double>(now.second - start) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  std::string line;
  for (const auto& [name, cpu] : by_name) {
    if (cpu / seconds >= 0.02) line += " " + name + " " + std::to_string(static_cast<int>(100 * cpu / seconds)) + "%";
  }
  std::printf("#   threads' CPU over the drain (%% of one core):%s\n", line.c_str());
}

using MakeService = std::function<std::unique_ptr<Service>(const std::string& in, const std::string& out,
                                                           const std::string& group, AckLog* acks)>;

// Drains a preloaded backlog of n records: records/s from the first output
// to the last (the group join is not in it; both Python loops fetch the
// output topic's metadata before they consume, as a long-running service
// has it: a producer that learns it only with its first record queues much
// of the backlog meanwhile, and looks faster from its first output on).
// `cpu_us_per_record`: the CPU time of everything (this process: broker,
// reader, streamml; plus a Python service's process) over the same span, per
// record: steadier than the rate on a shared machine.
double drain_run(const Args& a, const Workload& w, int n, const MakeService& make, double& cpu_us_per_record) {
  const std::string in = new_topic(a.bootstrap, "bench-tp-in", w.partitions);
  const std::string out = new_topic(a.bootstrap, "bench-tp-out", w.partitions);
  preload(a.bootstrap, in, w, n);
  OutputWatcher watcher(a.bootstrap, out, w.partitions);
  auto service = make(in, out, "bench-tp-" + in, nullptr);
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  double cpu_first = -1;
  std::map<int, std::pair<std::string, long>> ticks_first;
  while (watcher.count() < n && Clock::now() < deadline) {
    if (cpu_first < 0 && watcher.count() > 0) {
      cpu_first = process_cpu_seconds() + service->external_cpu_seconds();
      if (std::getenv("SERVE_BENCH_VERBOSE")) ticks_first = thread_ticks();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double cpu_last = process_cpu_seconds() + service->external_cpu_seconds();
  auto first = watcher.time_of(1), last = watcher.time_of(n);
  if (!first || !last) return 0;
  if (cpu_first >= 0) cpu_us_per_record = (cpu_last - cpu_first) * 1e6 / n;
  const double seconds = std::chrono::duration<double>(*last - *first).count();
  if (!ticks_first.empty() && seconds > 0) print_thread_cpu(ticks_first, seconds);
  return seconds > 0 ? (n - 1) / seconds : 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

LatencyResult latency_run(const Args& a, const Workload& w, const MakeService& make, bool timed_acks) {
  const std::string in = new_topic(a.bootstrap, "bench-lat-in", 1);
  const std::string out = new_topic(a.bootstrap, "bench-lat-out", 1);
  OutputWatcher watcher(a.bootstrap, out, 1);
  AckLog acks;
  auto service = make(in, out, "bench-lat-" + in, timed_acks ? &acks : nullptr);
  if (!wait_ready(a.bootstrap, in, w, watcher)) {
    std::fprintf(stderr, "service did not answer within 60 s\n");
    return {};
  }
  const double idle = idle_cpu_cores(3);
  LatencyResult res = paced_run(a, w, in, watcher, timed_acks ? &acks : nullptr);
  res.idle_cpu_cores = idle;
  return res;
}

void print_summary(const char* name, const LatencyResult& r, const serve::LatencySummary& s) {
  std::printf("RESULT %s offered_per_s=%.0f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f measured=%zu answered=%.4f "
              "idle_cpu_cores=%.2f\n",
              name, r.offered, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.count, r.served, r.idle_cpu_cores);
}

void print_latency(const char* name, const char* read_name, const LatencyResult& r) {
  if (name != nullptr) print_summary(name, r, r.ack_summary);
  print_summary(read_name, r, r.summary);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--rate") a.rate = std::stoi(next());
    else if (arg == "--seconds") a.seconds = std::stoi(next());
    else if (arg == "--warmup") a.warmup = std::stoi(next());
    else if (arg == "--load-linger-ms") a.load_linger_ms = next();
    else if (arg == "--records") a.records = std::stoi(next());
    else if (arg == "--python-records") a.python_records = std::stoi(next());
    else if (arg == "--tuned-records") a.tuned_records = std::stoi(next());
    else if (arg == "--workload") a.workload = next();
    else if (arg == "--runs") a.runs = std::stoi(next());
    else if (arg == "--no-python") a.python = false;
    else if (arg == "--no-latency") a.latency = false;
    else if (arg == "--max-batch") a.server.max_batch = std::stoul(next());
    else if (arg == "--max-wait-us") a.server.max_wait_us = std::stoll(next());
    else if (arg == "--max-in-flight") a.server.max_in_flight = std::stoul(next());
    else if (arg == "--busy-fetch") a.server.busy_fetch = a.busy_fetch_given = true;
    else if (arg == "--no-busy-fetch") a.busy_fetch_given = true;
    else if (arg == "--default-allocator") a.tune_allocator = false;
    else if (arg == "-X") {
      const std::string kv = next();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "-X expects key=value, got '%s'\n", kv.c_str());
        return 2;
      }
      a.extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    else if (arg == "-b") a.bootstrap = next();
    else {
      std::fprintf(stderr, "unknown argument %s (see the comment at the top of %s)\n", arg.c_str(), __FILE__);
      return 2;
    }
  }
  const bool tuned = a.tune_allocator && tune_allocator();  // before librdkafka's threads start, as the CLI does
  set_log_level(std::getenv("SERVE_BENCH_VERBOSE") ? LogLevel::kInfo : LogLevel::kWarn);
  if (a.workload != "small" && a.workload != "wide" && a.workload != "both") {
    std::fprintf(stderr, "--workload %s: expected small, wide or both\n", a.workload.c_str());
    return 2;
  }
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  if (a.bootstrap.empty()) {
    cluster = std::make_unique<kafka::EmbeddedCluster>();
    a.bootstrap = cluster->bootstrap_servers();
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("serve-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string script = (std::filesystem::path(__FILE__).parent_path() / "python_baseline.py").string();

  std::vector<Workload> workloads;
  auto add_workload = [&](std::string suffix, int features, int classes, int partitions) {
    Workload w;
    w.suffix = std::move(suffix);
    w.features = features;
    w.classes = classes;
    w.partitions = partitions;
    workloads.push_back(std::move(w));
  };
  if (a.workload != "wide") add_workload("", 4, 3, 8);
  if (a.workload != "small") add_workload("_wide", 30, 1, 24);
  for (Workload& w : workloads) {
    w.rows = make_rows(w.features);
    const std::string base = (dir / ("mlp" + std::to_string(w.features))).string();
    w.model_pt = base + ".pt";
    w.model_smlm = base + ".smlm";
    const std::string make_model = "/usr/bin/python3 " + script + " make-model " + w.model_pt + " --features " +
                                   std::to_string(w.features) + " --classes " + std::to_string(w.classes);
    if (std::system(make_model.c_str()) != 0) {
      std::fprintf(stderr, "cannot create the TorchScript model with %s\n", script.c_str());
      return 1;
    }
    model::ModelConfig config;
    config.task = w.classes == 1 ? model::Task::regression() : model::Task::multiclass(w.classes);
    config.features.num_features = static_cast<size_t>(w.features);
    std::string names;
    for (int f = 0; f < w.features; ++f) {
      config.features.feature_names.push_back("f" + std::to_string(f));
      names += (f ? "+f" : "f") + std::to_string(f);
    }
    config.features.decoder_spec = "csv:names=" + names + ",features=" + names;
    model::Model::from_torchscript(w.model_pt, config).save(w.model_smlm);
    std::printf("# workload %s: %d features, %zu B rows, TorchScript MLP %d-64-32-%d\n",
                w.suffix.empty() ? "small" : w.suffix.c_str() + 1, w.features, w.rows.front().size(), w.features,
                w.classes);
  }
  std::printf("# broker %s, offered load %d records/s for %d s (warm-up %d s), allocator %s%s\n", a.bootstrap.c_str(),
              a.rate, a.seconds, a.warmup, allocator_name().c_str(), tuned ? ", tuned (as the CLI)" : "");
  std::fflush(stdout);

  struct Throughput {
    std::vector<double> rates;
    std::vector<double> cpu_us;  // per record, whole machine's share (see drain_run)
  };
  auto throughput = [&](const Workload& w, const char* who, int records, const MakeService& make) {
    Throughput t;
    for (int r = 0; r < a.runs; ++r) {
      double cpu_us = 0;
      t.rates.push_back(drain_run(a, w, records, make, cpu_us));
      t.cpu_us.push_back(cpu_us);
      std::printf("# %s%s throughput run %d: %.0f records/s, %.2f us CPU/record\n", who, w.suffix.c_str(), r + 1,
                  t.rates.back(), cpu_us);
      std::fflush(stdout);
    }
    return t;
  };
  auto print_throughput = [&](const std::string& name, const Throughput& t, int records) {
    if (t.rates.empty()) return;
    std::printf("RESULT %s records_per_s=%.0f cpu_us_per_record=%.2f runs=%d records=%d min=%.0f max=%.0f\n",
                name.c_str(), median(t.rates), median(t.cpu_us), a.runs, records,
                *std::min_element(t.rates.begin(), t.rates.end()), *std::max_element(t.rates.begin(), t.rates.end()));
  };
  for (const Workload& w : workloads) {
    const std::string& sfx = w.suffix;
    auto make_streamml = [&](const Args& args) -> MakeService {
      return [&w, args](const std::string& in, const std::string& out, const std::string& group, AckLog* acks) {
        return std::unique_ptr<Service>(new StreammlService(args, w.model_smlm, in, out, group, acks));
      };
    };
    auto make_python = [&](const std::string& loop) -> MakeService {
      return [&a, &w, &script, loop](const std::string& in, const std::string& out, const std::string& group,
                                     AckLog*) {
        return std::unique_ptr<Service>(new PythonService(a, script, loop, w, in, out, group));
      };
    };
    LatencyResult lat;
    if (a.latency) {
      lat = latency_run(a, w, make_streamml(a), true);
      print_latency(("serve_latency" + sfx).c_str(), ("serve_read_latency" + sfx).c_str(), lat);
      if (!a.busy_fetch_given && sfx.empty()) {
        Args busy = a;
        busy.server.busy_fetch = true;
        print_latency("serve_latency_busy_fetch", "serve_read_latency_busy_fetch",
                      latency_run(busy, w, make_streamml(busy), true));
      }
    }
    const Throughput tput = throughput(w, "streamml", a.records, make_streamml(a));
    print_throughput("serve_throughput" + sfx, tput, a.records);
    if (!a.python) continue;
    LatencyResult tuned_lat;
    if (a.latency) {
      tuned_lat = latency_run(a, w, make_python("tuned"), false);
      print_latency(nullptr, ("serve_tuned_python_read_latency" + sfx).c_str(), tuned_lat);
    }
    const Throughput tuned = throughput(w, "tuned python", a.tuned_records, make_python("tuned"));
    print_throughput("serve_tuned_python_throughput" + sfx, tuned, a.tuned_records);
    const Throughput kafka_ml = throughput(w, "kafka-ml python", a.python_records, make_python("kafka-ml"));
    print_throughput("serve_kafkaml_python_throughput" + sfx, kafka_ml, a.python_records);
    const double serve_tput = median(tput.rates);
    std::printf("RESULT serve_vs_tuned_python%s throughput_ratio=%.2f cpu_ratio=%.2f p99_ratio=%.3f\n", sfx.c_str(),
                median(tuned.rates) > 0 ? serve_tput / median(tuned.rates) : 0,
                median(tput.cpu_us) > 0 ? median(tuned.cpu_us) / median(tput.cpu_us) : 0,
                tuned_lat.summary.p99_ms > 0 ? lat.summary.p99_ms / tuned_lat.summary.p99_ms : 0);
    std::printf("RESULT serve_vs_kafkaml_python%s throughput_ratio=%.1f\n", sfx.c_str(),
                median(kafka_ml.rates) > 0 ? serve_tput / median(kafka_ml.rates) : 0);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
