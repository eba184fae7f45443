// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// MetricsReporter: a thread that, every interval, sets the consumer lag of
// each partition being served (from the watermarks the consumer last
// fetched, without a request) and the records lost to retention into
// ServeMetrics, and prints the stderr metrics line when something changed
// (at most once a minute while idle).
//
// Thread-safety: start() and stop() from one thread; update_lost_records()
// from any thread. `positions` and `on_lost` run on the reporter's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "serve/commit_tracker.h"
#include "streamml/kafka/consumer.h"
#include "streamml/serve/metrics.h"

namespace streamml::serve {

class MetricsReporter {
 public:
  // The next offset to serve per assigned partition (-1: not known yet).
  using Positions = std::function<NextOffsets()>;
  // The consumer's count of records lost to retention.
  using OnLost = std::function<void(uint64_t lost)>;

  // `interval` 0: lag only (every 100 ms), no stderr line. `consumer` and
  // `metrics` must outlive the reporter.
  MetricsReporter(kafka::Consumer& consumer, ServeMetrics& metrics, std::chrono::milliseconds interval,
                  Positions positions, OnLost on_lost);
  ~MetricsReporter();  // stop()
  MetricsReporter(const MetricsReporter&) = delete;
  MetricsReporter& operator=(const MetricsReporter&) = delete;

  void start();
  // Stops and joins the thread. Idempotent.
  void stop();
  // The consumer's count of input records lost to retention, into the
  // metrics and on_lost.
  void update_lost_records();

 private:
  void loop();

  kafka::Consumer& consumer_;
  ServeMetrics& metrics_;
  const std::chrono::milliseconds interval_;
  const Positions positions_;
  const OnLost on_lost_;
  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace streamml::serve
