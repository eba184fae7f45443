// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RankingService: the horse-race ranking service, which is serve::Server
// (serve/server.h) with a RaceRankingProcessor, running on a thread this
// object owns. The demo (run_demo) and `streamml demo --step serve` use it:
//
//   RankingService service(config, {.input_topic = "race-live", .output_topic = "race-rankings"},
//                          race_ranking_factory(model, {.version = "live_model.smlm"}));
//   service.wait_until_assigned(stop, std::chrono::seconds(30));  // keep the group join out of the latency
//   ... stream the live races, read the rankings ...
//   const serve::ServerStats stats = service.stop();
//
// Everything else is the Server's: micro-batches, one ranking per telemetry
// record with the processor's key (the race id) and headers (the tick's
// produce time, race_ranking.h) plus the streamml.source.* and
// streamml.model.version headers; rankings go to the live record's partition
// number when both topics have as many partitions, else by key (a race stays
// in one partition, in order); input offsets are committed after their
// rankings were acknowledged (at-least-once; a redelivered record is rejected
// by the processor as stale and counted).
//
// Thread-safety: stats(), failed() and the wait functions are safe from any
// thread; stop() and the destructor from the owning thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "horse_race/race_ranking_processor.h"
#include "streamml/kafka/config.h"
#include "streamml/model/model.h"
#include "streamml/serve/processor.h"
#include "streamml/serve/server.h"

namespace streamml::demo {

struct RankingServiceOptions {
  std::string input_topic;                      // live telemetry topic (required)
  std::string output_topic;                     // rankings topic (required)
  std::string group = "streamml-race-ranking";  // consumer group of the service
  // A micro-batch closes at max_batch records or max_wait_us after its first
  // record, so it holds what arrived while the previous one was served; a
  // large max_batch spreads the per-batch costs (acknowledgements, commit)
  // over more records when the service fell behind. On a loaded 2-core
  // machine (load average 8), with a server that waits for each batch's
  // acknowledgements, the demo fell further and further behind at 512 and
  // kept up at 4096 (batches of about 700 records).
  size_t max_batch = 4096;
  int64_t max_wait_us = 1000;
  int64_t metrics_interval_ms = 0;              // Server's stderr metrics line period (0 = off)
};

// A factory of RaceRankingProcessors scoring with `model` on the feature set
// it was trained on (race_model_feature_set(); InputError when it is not a
// race model). The processors share the model: one serves at a time.
serve::ProcessorFactory race_ranking_factory(std::shared_ptr<model::Model> model, RaceRankingOptions options = {});

class RankingService {
 public:
  // Starts the server on its own thread. Throws ConfigError for bad options
  // (naming the option); errors of the running server (a processor that
  // cannot be built, undeliverable rankings) end its thread and are rethrown
  // by stop().
  RankingService(const kafka::Config& config, const RankingServiceOptions& options, serve::ProcessorFactory factory);
  // Stops and joins the server; an error it ended with is dropped.
  ~RankingService();
  RankingService(const RankingService&) = delete;
  RankingService& operator=(const RankingService&) = delete;

  // Blocks until the group assigned input partitions to the service (true),
  // or `stop` is set, the server failed or `timeout` expired (false).
  bool wait_until_assigned(const std::atomic<bool>& stop, std::chrono::milliseconds timeout) const;
  // Blocks until `stop` is set, the server failed, or no input record was
  // received for `idle_timeout` (negative: never) while the service had input
  // partitions assigned and no micro-batch in flight (neither the group join
  // nor a slow batch counts as idle time).
  void wait_until_idle(const std::atomic<bool>& stop, std::chrono::milliseconds idle_timeout) const;

  // The server's counters (records_in, records_out = rankings delivered,
  // rejected, assigned_partitions, ...).
  serve::ServerStats stats() const { return server_.stats(); }
  // The server's thread ended with an error (stop() rethrows it).
  bool failed() const { return failed_.load(); }

  // Stops the server after the micro-batch in flight (its rankings are
  // delivered and its offsets committed), joins it and returns its final
  // counters. Rethrows what ended the server: kafka::KafkaException, the
  // factory's or the processor's exception.
  serve::ServerStats stop();

 private:
  serve::Server server_;
  std::exception_ptr error_;  // set by the server thread before it ends; read after join
  std::atomic<bool> failed_{false};
  std::thread thread_;        // runs server_.run()
};

}  // namespace streamml::demo
