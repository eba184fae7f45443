// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ServeMetrics: what `serve` reports on stderr and at /metrics (Prometheus
// text format 0.0.4): records/s, micro-batch sizes, end-to-end latency (input
// record timestamp -> output acknowledged) as p50/p95/p99/max over the last
// interval plus a cumulative histogram in seconds
// (streamml_serve_latency_seconds), consumer lag per partition, dead-lettered
// records, outputs in flight, failed commits and reloads, and
// streamml_build_info.
//
// Thread-safety: every method is safe to call from several threads (one
// mutex; the hot path takes it once per micro-batch and per delivery report).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "streamml/kafka/types.h"

namespace streamml::serve {

// Percentiles of a set of samples (nearest rank). A value type.
struct LatencySummary {
  size_t count = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
};

// Nearest-rank percentiles of `samples_us` (reorders it).
LatencySummary summarize_latencies(std::vector<int64_t>& samples_us);

class ServeMetrics {
 public:
  ServeMetrics();

  // An idle server prints its stderr line at most this often.
  static constexpr std::chrono::seconds kIdleLinePeriod{60};

  // Upper bounds (seconds) of the cumulative latency histogram buckets.
  static const std::vector<double>& latency_buckets_seconds();

  // Starts the interval measured by the next interval_line() (the rate of
  // the first line is over the time since construction or this call).
  void start_interval();

  void record_batch(size_t records);
  void record_latency_us(int64_t latency_us);
  void record_rejected(bool dead_lettered);
  void set_lag(const kafka::TopicPartition& tp, int64_t lag);
  void clear_lag();
  void set_model_version(std::string version);
  void record_reload(bool ok);
  void record_commit_failure();
  // Input records lost to retention so far (the consumer's count).
  void set_lost_records(uint64_t lost);
  // Outputs produced and not yet acknowledged: +n when produced, -n when
  // their delivery reports (or refusals) come back. Lock-free.
  void add_in_flight(int64_t delta);

  // The interval since the last call: one stderr line, e.g.
  // "serve: 51234 rec/s, batches 50 (avg 1024.0, max 1024), latency ms p50 1.2
  //  p95 2.0 p99 3.1 max 4.0, lag 12, dead-lettered 0". Resets the window.
  std::string interval_line();
  // interval_line() when something changed since the last line (records
  // served, rejected, lag, model version) or the last line is at least
  // `idle_period` old; otherwise nullopt, and the window goes on.
  std::optional<std::string> interval_line_if_changed(std::chrono::seconds idle_period = kIdleLinePeriod);

  // Prometheus text exposition of the cumulative counters and gauges.
  std::string prometheus_text() const;

  uint64_t records() const;
  uint64_t latency_count() const;
  int64_t in_flight() const;

 private:
  mutable std::mutex mu_;
  // Cumulative.
  uint64_t records_ = 0;
  uint64_t batches_ = 0;
  uint64_t rejected_ = 0;
  uint64_t dead_lettered_ = 0;
  uint64_t reloads_ = 0;
  uint64_t reload_failures_ = 0;
  uint64_t commit_failures_ = 0;
  uint64_t lost_records_ = 0;
  uint64_t latency_count_ = 0;
  double latency_sum_seconds_ = 0;
  std::vector<uint64_t> latency_buckets_;  // cumulative counts per bound (+Inf last)
  std::map<kafka::TopicPartition, int64_t> lag_;
  std::string model_version_;
  std::atomic<int64_t> in_flight_{0};
  // What the last stderr line reported (interval_line_if_changed).
  int64_t last_line_us_ = -1;
  uint64_t last_line_rejected_ = 0;
  int64_t last_line_lag_ = 0;
  std::string last_line_model_version_;
  // Current interval.
  uint64_t window_records_ = 0;
  uint64_t window_batches_ = 0;
  size_t window_max_batch_ = 0;
  std::vector<int64_t> window_latencies_us_;
  int64_t window_start_us_;  // set at construction and by start_interval()
};

}  // namespace streamml::serve
