// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "streamml/version.h"

namespace streamml::serve {
namespace {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Nearest rank: the smallest sample with at least q of the samples <= it.
double rank_ms(const std::vector<int64_t>& sorted, double q) {
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1000.0;
}

std::string escape_label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

LatencySummary summarize_latencies(std::vector<int64_t>& samples_us) {
  LatencySummary s;
  s.count = samples_us.size();
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  s.p50_ms = rank_ms(samples_us, 0.50);
  s.p95_ms = rank_ms(samples_us, 0.95);
  s.p99_ms = rank_ms(samples_us, 0.99);
  s.max_ms = static_cast<double>(samples_us.back()) / 1000.0;
  return s;
}

ServeMetrics::ServeMetrics() : window_start_us_(now_us()) {}

const std::vector<double>& ServeMetrics::latency_buckets_seconds() {
  // 0.5 ms .. 5 s: serve's latencies are milliseconds; Prometheus wants seconds.
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,  0.5,   1,     5};
  return kBuckets;
}

void ServeMetrics::start_interval() {
  std::lock_guard lock(mu_);
  window_start_us_ = now_us();
}

void ServeMetrics::record_batch(size_t records) {
  std::lock_guard lock(mu_);
  records_ += records;
  ++batches_;
  window_records_ += records;
  ++window_batches_;
  window_max_batch_ = std::max(window_max_batch_, records);
}

void ServeMetrics::record_latency_us(int64_t latency_us) {
  latency_us = std::max<int64_t>(latency_us, 0);
  const double seconds = static_cast<double>(latency_us) / 1e6;
  std::lock_guard lock(mu_);
  const auto& bounds = latency_buckets_seconds();
  if (latency_buckets_.empty()) latency_buckets_.assign(bounds.size() + 1, 0);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) ++latency_buckets_[i];
  }
  ++latency_buckets_.back();
  ++latency_count_;
  latency_sum_seconds_ += seconds;
  // Bound the window's memory at very high rates (the percentiles of the
  // first million samples of a second are representative).
  if (window_latencies_us_.size() < 1'000'000) window_latencies_us_.push_back(latency_us);
}

void ServeMetrics::record_rejected(bool dead_lettered) {
  std::lock_guard lock(mu_);
  ++rejected_;
  if (dead_lettered) ++dead_lettered_;
}

void ServeMetrics::set_lag(const kafka::TopicPartition& tp, int64_t lag) {
  std::lock_guard lock(mu_);
  lag_[tp] = lag;
}

void ServeMetrics::clear_lag() {
  std::lock_guard lock(mu_);
  lag_.clear();
}

void ServeMetrics::set_model_version(std::string version) {
  std::lock_guard lock(mu_);
  model_version_ = std::move(version);
}

void ServeMetrics::record_reload(bool ok) {
  std::lock_guard lock(mu_);
  ++(ok ? reloads_ : reload_failures_);
}

void ServeMetrics::record_commit_failure() {
  std::lock_guard lock(mu_);
  ++commit_failures_;
}

void ServeMetrics::set_lost_records(uint64_t lost) {
  std::lock_guard lock(mu_);
  lost_records_ = lost;
}

void ServeMetrics::add_in_flight(int64_t delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

int64_t ServeMetrics::in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

std::optional<std::string> ServeMetrics::interval_line_if_changed(std::chrono::seconds idle_period) {
  {
    std::lock_guard lock(mu_);
    int64_t lag_total = 0;
    for (const auto& [tp, lag] : lag_) lag_total += std::max<int64_t>(lag, 0);
    const bool changed = window_records_ > 0 || window_batches_ > 0 || !window_latencies_us_.empty() ||
                         rejected_ != last_line_rejected_ || lag_total != last_line_lag_ ||
                         model_version_ != last_line_model_version_;
    const bool idle_line_due =
        last_line_us_ >= 0 && now_us() - last_line_us_ >=
                                  std::chrono::duration_cast<std::chrono::microseconds>(idle_period).count();
    if (!changed && !idle_line_due) return std::nullopt;
  }
  return interval_line();
}

std::string ServeMetrics::interval_line() {
  std::vector<int64_t> samples;
  uint64_t recs, batches, rejected, dead;
  size_t max_batch;
  int64_t lag_total = 0;
  const int64_t now = now_us();
  int64_t start;
  {
    std::lock_guard lock(mu_);
    samples.swap(window_latencies_us_);
    recs = window_records_;
    batches = window_batches_;
    max_batch = window_max_batch_;
    rejected = rejected_;
    dead = dead_lettered_;
    for (const auto& [tp, lag] : lag_) lag_total += std::max<int64_t>(lag, 0);
    start = window_start_us_;
    window_records_ = window_batches_ = 0;
    window_max_batch_ = 0;
    window_start_us_ = now;
    last_line_us_ = now;
    last_line_rejected_ = rejected;
    last_line_lag_ = lag_total;
    last_line_model_version_ = model_version_;
  }
  // The window is at least as long as the time since construction or
  // start_interval(): never a rate over a made-up 1 ms.
  const double seconds = std::max(1e-6, static_cast<double>(now - start) / 1e6);
  LatencySummary s = summarize_latencies(samples);
  return fmt::format(
      "serve: {:.0f} rec/s, batches {} (avg {:.1f}, max {}), latency ms p50 {:.2f} p95 {:.2f} "
      "p99 {:.2f} max {:.2f}, lag {}, rejected/dead-lettered {}/{}",
      static_cast<double>(recs) / seconds, batches,
      batches ? static_cast<double>(recs) / static_cast<double>(batches) : 0.0, max_batch, s.p50_ms,
      s.p95_ms, s.p99_ms, s.max_ms, lag_total, rejected, dead);
}

std::string ServeMetrics::prometheus_text() const {
  std::lock_guard lock(mu_);
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
  };
  counter("streamml_serve_records_total", "Records served (outputs acknowledged or rejected).", records_);
  counter("streamml_serve_batches_total", "Micro-batches completed.", batches_);
  counter("streamml_serve_rejected_total", "Bad records (dead-lettered or logged).", rejected_);
  counter("streamml_serve_dead_lettered_total", "Records written to the dead-letter topic.", dead_lettered_);
  counter("streamml_serve_reloads_total", "Successful hot reloads.", reloads_);
  counter("streamml_serve_reload_failures_total", "Reloads that kept the old model.", reload_failures_);
  counter("streamml_serve_commit_failures_total", "Offset commits that failed.", commit_failures_);
  counter("streamml_serve_lost_records_total", "Input records removed by retention before they were served.",
          lost_records_);

  out += "# HELP streamml_serve_in_flight_outputs Outputs produced and not yet acknowledged.\n";
  out += "# TYPE streamml_serve_in_flight_outputs gauge\n";
  out += fmt::format("streamml_serve_in_flight_outputs {}\n", std::max<int64_t>(in_flight(), 0));

  out += "# HELP streamml_serve_latency_seconds End-to-end latency: input timestamp to output acknowledged.\n";
  out += "# TYPE streamml_serve_latency_seconds histogram\n";
  const auto& bounds = latency_buckets_seconds();
  for (size_t i = 0; i < bounds.size(); ++i) {
    out += fmt::format("streamml_serve_latency_seconds_bucket{{le=\"{}\"}} {}\n", bounds[i],
                       latency_buckets_.empty() ? 0 : latency_buckets_[i]);
  }
  out += fmt::format("streamml_serve_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", latency_count_);
  out += fmt::format("streamml_serve_latency_seconds_sum {}\n", latency_sum_seconds_);
  out += fmt::format("streamml_serve_latency_seconds_count {}\n", latency_count_);

  out += "# HELP streamml_serve_consumer_lag Records behind the high watermark per partition.\n";
  out += "# TYPE streamml_serve_consumer_lag gauge\n";
  for (const auto& [tp, lag] : lag_) {
    out += fmt::format("streamml_serve_consumer_lag{{topic=\"{}\",partition=\"{}\"}} {}\n",
                       escape_label(tp.topic), tp.partition, lag);
  }
  out += "# HELP streamml_serve_model_info The model version now serving.\n";
  out += "# TYPE streamml_serve_model_info gauge\n";
  out += fmt::format("streamml_serve_model_info{{version=\"{}\"}} 1\n", escape_label(model_version_));
  out += "# HELP streamml_build_info The streamml version this process runs.\n";
  out += "# TYPE streamml_build_info gauge\n";
  out += fmt::format("streamml_build_info{{version=\"{}\"}} 1\n", escape_label(kVersion));
  return out;
}

uint64_t ServeMetrics::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

uint64_t ServeMetrics::latency_count() const {
  std::lock_guard lock(mu_);
  return latency_count_;
}

}  // namespace streamml::serve
