// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/metrics.h"

#include <gtest/gtest.h>

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
  // Cumulative buckets.
  EXPECT_NE(t.find("streamml_serve_latency_ms_bucket{le=\"0.5\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("streamml_serve_latency_ms_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_ms_bucket{le=\"3\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_ms_bucket{le=\"5\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_ms_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_latency_ms_count 3\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_consumer_lag{topic=\"in\",partition=\"2\"} 17\n"), std::string::npos);
  EXPECT_NE(t.find("streamml_serve_model_info{version=\"crc-0000abcd\"} 1\n"), std::string::npos);
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
