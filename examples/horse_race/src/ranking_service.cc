// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/ranking_service.h"

#include <utility>

#include "horse_race/race_models.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::demo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kWaitStep{20};

serve::ServerOptions server_options(const kafka::Config& config, const RankingServiceOptions& o) {
  if (o.input_topic.empty()) throw ConfigError("ranking service: the live (input) topic is required");
  if (o.output_topic.empty()) throw ConfigError("ranking service: the rankings (output) topic is required");
  serve::ServerOptions s;
  s.input_topics = {o.input_topic};
  s.output_topic = o.output_topic;
  s.group = o.group;
  s.max_batch = o.max_batch;
  s.max_wait_us = o.max_wait_us;
  s.metrics_interval_ms = o.metrics_interval_ms;
  s.kafka = config;
  return s;  // the Server validates the rest, naming the option
}

}  // namespace

serve::ProcessorFactory race_ranking_factory(std::shared_ptr<model::Model> model, RaceRankingOptions options) {
  if (!model) throw ConfigError("ranking service: a model is required");
  const FeatureSet set = race_model_feature_set(*model);
  return [model = std::move(model), set, options = std::move(options)]() -> std::unique_ptr<serve::Processor> {
    return std::make_unique<RaceRankingProcessor>(model_scorer(model), set, options);
  };
}

RankingService::RankingService(const kafka::Config& config, const RankingServiceOptions& options,
                               serve::ProcessorFactory factory)
    : server_(server_options(config, options), std::move(factory)) {
  thread_ = std::thread([this] {
    try {
      server_.run();
    } catch (...) {
      error_ = std::current_exception();
      failed_.store(true);
    }
  });
}

RankingService::~RankingService() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

bool RankingService::wait_until_assigned(const std::atomic<bool>& stop, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (server_.stats().assigned_partitions == 0) {
    if (stop.load() || failed_.load() || Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kWaitStep);
  }
  return true;
}

void RankingService::wait_until_idle(const std::atomic<bool>& stop, std::chrono::milliseconds idle_timeout) const {
  uint64_t seen = server_.stats().records_received;
  auto last_input = Clock::now();
  while (!stop.load() && !failed_.load()) {
    std::this_thread::sleep_for(kWaitStep);
    const serve::ServerStats now = server_.stats();
    if (now.records_received != seen || now.records_in_flight > 0 || now.assigned_partitions == 0) {
      // Input, a batch still being served (a slow model is not idle), or none possible yet (joining the
      // group): the idle time starts again.
      seen = now.records_received;
      last_input = Clock::now();
    } else if (idle_timeout.count() >= 0 && Clock::now() - last_input > idle_timeout) {
      log_info("ranking service: no input for {} ms, stopping", idle_timeout.count());
      return;
    }
  }
}

serve::ServerStats RankingService::stop() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return server_.stats();
}

}  // namespace streamml::demo
