// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/metrics_reporter.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "streamml/common/logging.h"

namespace streamml::serve {

MetricsReporter::MetricsReporter(kafka::Consumer& consumer, ServeMetrics& metrics, std::chrono::milliseconds interval,
                                 Positions positions, OnLost on_lost)
    : consumer_(consumer),
      metrics_(metrics),
      interval_(interval),
      positions_(std::move(positions)),
      on_lost_(std::move(on_lost)) {}

MetricsReporter::~MetricsReporter() { stop(); }

void MetricsReporter::start() {
  thread_ = std::thread([this] { loop(); });
}

void MetricsReporter::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricsReporter::update_lost_records() {
  const auto lost = static_cast<uint64_t>(consumer_.lost_records());
  metrics_.set_lost_records(lost);
  on_lost_(lost);
}

// Updates the lag and prints the stderr line every interval when something
// changed, and at most once a minute while idle.
void MetricsReporter::loop() {
  metrics_.start_interval();
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::max(interval_, std::chrono::milliseconds(100)));
    if (stop_) break;
    lock.unlock();
    update_lost_records();
    for (const auto& [tp, next] : positions_()) {
      const std::optional<kafka::Watermarks> marks = consumer_.cached_watermarks(tp.topic, tp.partition);
      if (marks && next >= 0) metrics_.set_lag(tp, std::max<int64_t>(0, marks->high - next));
    }
    if (interval_.count() > 0) {
      if (auto line = metrics_.interval_line_if_changed()) log_info("{}", *line);
    }
    lock.lock();
  }
}

}  // namespace streamml::serve
