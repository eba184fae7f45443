// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

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

const std::vector<double>& ServeMetrics::latency_buckets_ms() {
  static const std::vector<double> kBuckets = {0.5, 1, 2, 3, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
  return kBuckets;
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
  const double ms = static_cast<double>(latency_us) / 1000.0;
  std::lock_guard lock(mu_);
  const auto& bounds = latency_buckets_ms();
  if (latency_buckets_.empty()) latency_buckets_.assign(bounds.size() + 1, 0);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (ms <= bounds[i]) ++latency_buckets_[i];
  }
  ++latency_buckets_.back();
  ++latency_count_;
  latency_sum_ms_ += ms;
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
    start = window_start_us_ < 0 ? now : window_start_us_;
    window_records_ = window_batches_ = 0;
    window_max_batch_ = 0;
    window_start_us_ = now;
  }
  const double seconds = std::max(1e-3, static_cast<double>(now - start) / 1e6);
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

  out += "# HELP streamml_serve_latency_ms End-to-end latency: input timestamp to output acknowledged.\n";
  out += "# TYPE streamml_serve_latency_ms histogram\n";
  const auto& bounds = latency_buckets_ms();
  for (size_t i = 0; i < bounds.size(); ++i) {
    out += fmt::format("streamml_serve_latency_ms_bucket{{le=\"{}\"}} {}\n", bounds[i],
                       latency_buckets_.empty() ? 0 : latency_buckets_[i]);
  }
  out += fmt::format("streamml_serve_latency_ms_bucket{{le=\"+Inf\"}} {}\n", latency_count_);
  out += fmt::format("streamml_serve_latency_ms_sum {}\n", latency_sum_ms_);
  out += fmt::format("streamml_serve_latency_ms_count {}\n", latency_count_);

  out += "# HELP streamml_serve_consumer_lag Records behind the high watermark per partition.\n";
  out += "# TYPE streamml_serve_consumer_lag gauge\n";
  for (const auto& [tp, lag] : lag_) {
    out += fmt::format("streamml_serve_consumer_lag{{topic=\"{}\",partition=\"{}\"}} {}\n",
                       escape_label(tp.topic), tp.partition, lag);
  }
  out += "# HELP streamml_serve_model_info The model version now serving.\n";
  out += "# TYPE streamml_serve_model_info gauge\n";
  out += fmt::format("streamml_serve_model_info{{version=\"{}\"}} 1\n", escape_label(model_version_));
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
