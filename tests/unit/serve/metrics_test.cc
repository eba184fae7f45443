// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "streamml/version.h"

namespace streamml::serve {
namespace {

TEST(SummarizeLatencies, NearestRank) {
  std::vector<int64_t> samples;
  for (int64_t i = 100; i >= 1; --i) samples.push_back(i * 1000);  // 1..100 ms, reversed
  LatencySummary s = summarize_latencies(samples);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p95_ms, 95);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  std::vector<int64_t> empty;
  EXPECT_EQ(summarize_latencies(empty).count, 0u);
  std::vector<int64_t> one = {2500};
  EXPECT_DOUBLE_EQ(summarize_latencies(one).p99_ms, 2.5);
}

TEST(ServeMetrics, PrometheusText) {
  ServeMetrics m;
  m.record_batch(3);
  m.record_batch(5);
  m.record_latency_us(700);    // 0.7 ms
  m.record_latency_us(4000);   // 4 ms
  m.record_latency_us(-5);     // clock skew: counted as 0
  m.record_rejected(true);
  m.record_rejected(false);
  m.set_lag({"in", 2}, 17);
  m.set_model_version("crc-0000abcd");
  m.record_reload(true);
  m.record_reload(false);
  const std::string t = m.prometheus_text();
  EXPECT_NE(t.find("# TYPE streamml_serve_records_total counter\nstreamml_serve_records_total 8\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("streamml_serve_batches_total 2\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_rejected_total 2\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_dead_lettered_total 1\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_reloads_total 1\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_reload_failures_total 1\n"), std::string::npos);
  // Cumulative buckets, in seconds (Prometheus base units).
  EXPECT_NE(t.find("# TYPE streamml_serve_latency_seconds histogram\n"), std::string::npos) << t;
  EXPECT_NE(t.find("streamml_serve_latency_seconds_bucket{le=\"0.0005\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("streamml_serve_latency_seconds_bucket{le=\"0.001\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_seconds_bucket{le=\"0.003\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_seconds_bucket{le=\"0.005\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_seconds_sum 0.004"), std::string::npos) << t;  // 0.0047 s
  EXPECT_NE(t.find("streamml_serve_latency_seconds_count 3\n"), std::string::npos);
  EXPECT_EQ(t.find("latency_ms"), std::string::npos) << t;
  EXPECT_NE(t.find("streamml_serve_consumer_lag{topic=\"in\",partition=\"2\"} 17\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_model_info{version=\"crc-0000abcd\"} 1\n"), std::string::npos);
}

TEST(ServeMetrics, BuildInfoInFlightOutputsAndCommitFailures) {
  ServeMetrics m;
  m.add_in_flight(5);
  m.add_in_flight(-2);
  m.record_commit_failure();
  const std::string t = m.prometheus_text();
  EXPECT_NE(t.find("# TYPE streamml_build_info gauge\nstreamml_build_info{version=\"" + std::string(kVersion) +
                   "\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# TYPE streamml_serve_in_flight_outputs gauge\nstreamml_serve_in_flight_outputs 3\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# TYPE streamml_serve_commit_failures_total counter\nstreamml_serve_commit_failures_total 1\n"),
            std::string::npos)
      << t;
}

// The rate of a line is over the time its window really lasted: the first
// line once divided the first window's records by 1 ms (18,580,000 rec/s).
TEST(ServeMetrics, TheFirstLineRatesOverTheTimeSinceConstruction) {
  ServeMetrics m;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  m.record_batch(1000);
  const std::string line = m.interval_line();
  const double rate = std::stod(line.substr(line.find(": ") + 2));
  EXPECT_LE(rate, 1000 / 0.2) << line;  // at most 1000 records over at least 200 ms
  EXPECT_GT(rate, 0) << line;
}

TEST(ServeMetrics, AnIdleServerPrintsALineOnlyWhenSomethingChanged) {
  ServeMetrics m;
  EXPECT_EQ(m.interval_line_if_changed(), std::nullopt);  // nothing yet
  m.record_batch(10);
  auto line = m.interval_line_if_changed();
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(line->find("batches 1 (avg 10.0, max 10)"), std::string::npos) << *line;
  EXPECT_EQ(m.interval_line_if_changed(), std::nullopt);  // idle
  EXPECT_EQ(m.interval_line_if_changed(), std::nullopt);
  m.set_lag({"in", 0}, 4);
  EXPECT_TRUE(m.interval_line_if_changed().has_value());  // the lag changed
  EXPECT_EQ(m.interval_line_if_changed(), std::nullopt);
  m.record_rejected(false);
  EXPECT_TRUE(m.interval_line_if_changed().has_value());
  EXPECT_EQ(m.interval_line_if_changed(), std::nullopt);
  m.set_model_version("v2");
  EXPECT_TRUE(m.interval_line_if_changed().has_value());
  // While idle, one line per idle period (here 0 s: every call).
  EXPECT_TRUE(m.interval_line_if_changed(std::chrono::seconds(0)).has_value());
  EXPECT_EQ(m.interval_line_if_changed(std::chrono::seconds(3600)), std::nullopt);
}

TEST(ServeMetrics, IntervalLineReportsAndResetsTheWindow) {
  ServeMetrics m;
  m.interval_line();  // starts the window
  m.record_batch(10);
  m.record_batch(30);
  for (int i = 1; i <= 100; ++i) m.record_latency_us(i * 100);
  m.set_lag({"in", 0}, 5);
  m.set_lag({"in", 1}, 7);
  const std::string line = m.interval_line();
  EXPECT_NE(line.find("batches 2 (avg 20.0, max 30)"), std::string::npos) << line;
  EXPECT_NE(line.find("p50 5.00 p95 9.50 p99 9.90 max 10.00"), std::string::npos) << line;
  EXPECT_NE(line.find("lag 12"), std::string::npos) << line;
  const std::string next = m.interval_line();
  EXPECT_NE(next.find("batches 0 (avg 0.0, max 0)"), std::string::npos) << next;
  EXPECT_NE(next.find("p99 0.00"), std::string::npos) << next;
  EXPECT_EQ(m.records(), 40u);  // cumulative counters are not reset
}

}  // namespace
}  // namespace streamml::serve
