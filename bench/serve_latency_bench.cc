// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve benchmark: streamml serve (serve::Server, in this process) against
// the Kafka-ML-style Python loop (bench/python_baseline.py), on the same
// broker (an embedded cluster in this process, or -b host:port), the same
// model (one TorchScript MLP 4 -> 64 -> 32 -> 3, written by the Python
// script and wrapped by Model::from_torchscript) and the same data, in one
// run:
//   * latency at a steady offered load (default 5,000 records/s, sent in 1 ms
//     ticks), after a warm-up, two ways:
//       serve_latency      input sent -> output acknowledged by the broker
//                          (the and /metrics' end-to-end latency,
//                          timed in µs through ServerOptions::on_acknowledged);
//       serve_read_latency input sent -> output read by a downstream consumer
//                          (adds that consumer's fetch: on the embedded
//                          cluster ~1 ms, as it answers a fetch only when
//                          fetch.wait.max.ms expires; the Python comparison
//                          uses this one, the only one both sides have);
//     both with serve's defaults and with --busy-fetch (serve_*_busy_fetch:
//     the consumer fetches again at once instead of letting the embedded
//     broker hold an empty fetch for fetch.wait.max.ms), each with the CPU
//     the whole process (broker, service, load generator, reader) used per
//     second while idle before the load started (idle_cpu_cores);
//   * maximum sustained throughput with micro-batching: a preloaded backlog
//     drained as fast as possible (median of --runs runs);
//   * the Python baseline under the same latency load and backlog.
// Prints `RESULT serve_<name> key=value ...` lines.
//
// Usage: serve_latency_bench [--rate 5000] [--seconds 12] [--warmup 2]
//          [--records 200000] [--python-records 20000] [--runs 5] [--no-python] [--no-latency]
//          [--max-batch N] [--max-wait-us U] [--max-in-flight N] [--busy-fetch | --no-busy-fetch]
//          [-X key=value]...
//          [-b bootstrap]
// (--max-*, --busy-fetch and -X tune streamml serve only; the defaults are
// serve's own. --busy-fetch or --no-busy-fetch: one latency phase, with or
// without busy fetch, instead of both.)
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  int records = 200000;
  int python_records = 20000;
  int runs = 5;
  bool python = true;
  bool latency = true;     // --no-latency: throughput only (for profiling)
  bool busy_fetch_given = false;  // --busy-fetch or --no-busy-fetch: one latency phase, not both
  std::vector<std::pair<std::string, std::string>> extra;  // -X properties for serve's clients
  serve::ServerOptions server;  // max_batch, max_wait_us, max_in_flight: serve's defaults unless given
};

std::string row(int i) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%.3f,%.3f,%.3f,%.3f", 0.1 * (i % 17) - 0.5, 0.03 * (i % 29),
                -0.2 * (i % 7), 1.0 + 0.01 * (i % 101));
  return buf;
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
  PythonService(const Args& a, const std::string& script, const std::string& model, const std::string& in,
                const std::string& out, const std::string& group) {
    std::vector<std::string> args = {"/usr/bin/python3", script, "serve", "-b", a.bootstrap, "--model", model,
                                     "--input", in, "--output", out, "-G", group};
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
        arrivals_.push_back(t);
        auto key = m.key();
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
  std::mutex mu_;
  std::vector<Clock::time_point> arrivals_;
  std::vector<std::pair<int64_t, int64_t>> latencies_;
};

// Waits until the service answers a probe (it joined its group).
bool wait_ready(const std::string& bootstrap, const std::string& in, OutputWatcher& watcher) {
  kafka::Producer producer(kafka::Config{{"bootstrap.servers", bootstrap}, {"linger.ms", "0"}});
  const std::string value = row(0);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    kafka::ProduceRecord r;
    r.topic = in;
    r.key = std::string_view("probe");
    r.value = value;
    producer.produce(r);
    producer.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (watcher.count() > 0) return true;
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
LatencyResult paced_run(const Args& a, const std::string& in, OutputWatcher& watcher, AckLog* acks) {
  const int total = a.rate * a.seconds;
  // Send time (µs) of each record by its input offset, from the delivery
  // reports (the opaque is the record's index).
  std::vector<int64_t> sent_us(static_cast<size_t>(total), 0);
  std::mutex offsets_mu;
  std::map<int64_t, int64_t> sent_at_offset;  // guarded by offsets_mu
  kafka::Producer producer(kafka::Config{{"bootstrap.servers", a.bootstrap}, {"linger.ms", "0"}},
                           [&](const kafka::DeliveryReport& r) {
                             if (!r.error.ok()) return;
                             std::lock_guard lock(offsets_mu);
                             sent_at_offset[r.offset] = sent_us[r.opaque];
                           });
  const auto start = Clock::now();
  const int64_t start_us = wall_us();
  const int64_t measure_from = start_us + int64_t{a.warmup} * 1'000'000;
  int64_t measured = 0;
  std::vector<std::string> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(row(i));
  // Paced in 1 ms ticks: each tick sends the records due by then, back to
  // back (5 per tick at 5,000/s), each keyed with its own send time. A wake-up
  // per record would make the load generator (and the broker answering one
  // produce request per record) the busiest thread of a 2-core machine.
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

void preload(const std::string& bootstrap, const std::string& in, int n) {
  kafka::Producer producer(kafka::Config{{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
  std::vector<std::string> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(row(i));
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

// Drains a preloaded backlog of n records; records/s between the first and
// the last output (excludes the group join).
template <typename MakeService>
double drain_run(const Args& a, int n, MakeService make) {
  constexpr int kPartitions = 8;
  const std::string in = new_topic(a.bootstrap, "bench-tp-in", kPartitions);
  const std::string out = new_topic(a.bootstrap, "bench-tp-out", kPartitions);
  preload(a.bootstrap, in, n);
  OutputWatcher watcher(a.bootstrap, out, kPartitions);
  auto service = make(in, out, "bench-tp-" + in);
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  while (watcher.count() < n && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto first = watcher.time_of(1), last = watcher.time_of(n);
  if (!first || !last) return 0;
  const double seconds = std::chrono::duration<double>(*last - *first).count();
  return seconds > 0 ? (n - 1) / seconds : 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

LatencyResult latency_run(const Args& a,
                          const std::function<std::unique_ptr<Service>(const std::string&, const std::string&,
                                                                       const std::string&, AckLog*)>& make,
                          bool timed_acks) {
  const std::string in = new_topic(a.bootstrap, "bench-lat-in", 1);
  const std::string out = new_topic(a.bootstrap, "bench-lat-out", 1);
  OutputWatcher watcher(a.bootstrap, out, 1);
  AckLog acks;
  auto service = make(in, out, "bench-lat-" + in, timed_acks ? &acks : nullptr);
  if (!wait_ready(a.bootstrap, in, watcher)) {
    std::fprintf(stderr, "service did not answer within 60 s\n");
    return {};
  }
  const double idle = idle_cpu_cores(3);
  LatencyResult res = paced_run(a, in, watcher, timed_acks ? &acks : nullptr);
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
    else if (arg == "--records") a.records = std::stoi(next());
    else if (arg == "--python-records") a.python_records = std::stoi(next());
    else if (arg == "--runs") a.runs = std::stoi(next());
    else if (arg == "--no-python") a.python = false;
    else if (arg == "--no-latency") a.latency = false;
    else if (arg == "--max-batch") a.server.max_batch = std::stoul(next());
    else if (arg == "--max-wait-us") a.server.max_wait_us = std::stoll(next());
    else if (arg == "--max-in-flight") a.server.max_in_flight = std::stoul(next());
    else if (arg == "--busy-fetch") a.server.busy_fetch = a.busy_fetch_given = true;
    else if (arg == "--no-busy-fetch") a.busy_fetch_given = true;
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
  set_log_level(std::getenv("SERVE_BENCH_VERBOSE") ? LogLevel::kInfo : LogLevel::kWarn);
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  if (a.bootstrap.empty()) {
    cluster = std::make_unique<kafka::EmbeddedCluster>();
    a.bootstrap = cluster->bootstrap_servers();
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("serve-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string script = (std::filesystem::path(__FILE__).parent_path() / "python_baseline.py").string();
  const std::string pt = (dir / "mlp.pt").string();
  const std::string model_path = (dir / "mlp.smlm").string();
  if (std::system(("/usr/bin/python3 " + script + " make-model " + pt).c_str()) != 0) {
    std::fprintf(stderr, "cannot create the TorchScript model with %s\n", script.c_str());
    return 1;
  }
  model::ModelConfig config;
  config.task = model::Task::multiclass(3);
  config.features.num_features = 4;
  config.features.feature_names = {"a", "b", "c", "d"};
  config.features.decoder_spec = "csv:names=a+b+c+d,features=a+b+c+d";
  model::Model::from_torchscript(pt, config).save(model_path);
  std::printf("# broker %s, model %s (TorchScript 4-64-32-3 MLP), offered load %d records/s for %d s (warm-up %d s)\n",
              a.bootstrap.c_str(), pt.c_str(), a.rate, a.seconds, a.warmup);

  auto make_streamml = [&](const std::string& in, const std::string& out, const std::string& group,
                           AckLog* acks = nullptr) {
    return std::unique_ptr<Service>(new StreammlService(a, model_path, in, out, group, acks));
  };
  auto make_python = [&](const std::string& in, const std::string& out, const std::string& group,
                         AckLog* = nullptr) {
    return std::unique_ptr<Service>(new PythonService(a, script, pt, in, out, group));
  };

  LatencyResult lat;
  if (a.latency) {
    lat = latency_run(a, make_streamml, true);
    print_latency("serve_latency", "serve_read_latency", lat);
    if (!a.busy_fetch_given) {
      Args busy = a;
      busy.server.busy_fetch = true;
      auto make_busy = [&](const std::string& in, const std::string& out, const std::string& group,
                           AckLog* acks = nullptr) {
        return std::unique_ptr<Service>(new StreammlService(busy, model_path, in, out, group, acks));
      };
      print_latency("serve_latency_busy_fetch", "serve_read_latency_busy_fetch", latency_run(busy, make_busy, true));
    }
  }
  std::vector<double> tput;
  for (int r = 0; r < a.runs; ++r) {
    tput.push_back(drain_run(a, a.records, make_streamml));
    std::printf("# streamml throughput run %d: %.0f records/s\n", r + 1, tput.back());
    std::fflush(stdout);
  }
  const double serve_tput = median(tput);
  if (!tput.empty()) std::printf("RESULT serve_throughput records_per_s=%.0f runs=%d records=%d min=%.0f max=%.0f\n", serve_tput,
              a.runs, a.records, *std::min_element(tput.begin(), tput.end()),
              *std::max_element(tput.begin(), tput.end()));
  if (a.python) {
    LatencyResult plat;
    if (a.latency) {
      plat = latency_run(a, make_python, false);
      print_latency(nullptr, "serve_python_read_latency", plat);
    }
    std::vector<double> ptput;
    for (int r = 0; r < a.runs; ++r) {
      ptput.push_back(drain_run(a, a.python_records, make_python));
      std::printf("# python throughput run %d: %.0f records/s\n", r + 1, ptput.back());
      std::fflush(stdout);
    }
    const double py_tput = median(ptput);
    if (!ptput.empty()) {
      std::printf("RESULT serve_python_throughput records_per_s=%.0f runs=%d records=%d\n", py_tput, a.runs,
                  a.python_records);
    }
    std::printf("RESULT serve_vs_python throughput_ratio=%.1f p99_ratio=%.3f\n",
                py_tput > 0 ? serve_tput / py_tput : 0,
                plat.summary.p99_ms > 0 ? lat.summary.p99_ms / plat.summary.p99_ms : 0);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
