// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The horse-race demo end to end, as steps that run against any Kafka
// cluster (each is also a `streamml demo --step` of the CLI):
//
//   1. produce_races(): simulated races to a topic, keyed by race id (the
//      history topic: telemetry then the result line of each race);
//   2. read_race_history() + train_race_model() (race_models.h): the live
//      and the pre-race model from the history topic;
//   3. stream_live_races(): live telemetry in accelerated real time, races
//      interleaved, every record stamped with its produce time;
//   4. the ranking service (ranking_service.h): serve::Server with a
//      RaceRankingProcessor, one ranking per telemetry record to the
//      rankings topic; the live stream starts once the service's consumer
//      was assigned its partitions;
//   5. run_leaderboard() (leaderboard.h): reads the rankings, shows the live
//      board, measures tick-produced -> ranking-delivered latency and collects
//      the traces;
//   6. make_demo_report() (race_report.h): accuracy of the streaming model against "the
//      current leader wins" and the pre-race model, latency, the late-surge
//      chart.
// run_demo() does all of it on one cluster (embedded unless brokers are given).
//
// Thread-safety: every function blocks its caller; `stop` flags may be set
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "horse_race/leaderboard.h"
#include "horse_race/race.h"
#include "horse_race/race_models.h"
#include "horse_race/race_predictors.h"
#include "horse_race/race_report.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/config.h"

namespace streamml::demo {

// Partitions for `bytes` of records so each keeps well under the embedded
// cluster's ~5 MiB per partition (at most 2.5 MiB each, at least `min`).
int32_t partitions_for_bytes(size_t bytes, int32_t min = 4);
// Encoded size of the history lines (telemetry + result) of races
// first_race_id ... first_race_id + count - 1 of `seed`, for sizing a topic.
size_t race_history_bytes(uint64_t seed, int64_t first_race_id, size_t count);
// Encoded size of the live telemetry of `races` as stream_live_races()
// produces it (value, key, produce-time header), for sizing the live topic.
size_t race_live_bytes(const std::vector<Race>& races);
// Approximate size of the rankings of `races` (one per telemetry record, with
// the ranking service's headers), for sizing the rankings topic.
size_t race_rankings_bytes(const std::vector<Race>& races);

// Creates `topic` with `partitions` (ConfigError naming the topic when it
// already exists, unless `reuse`, then its partition count is returned).
int32_t create_race_topic(const kafka::Config& config, const std::string& topic, int32_t partitions,
                          bool reuse = false);
// The same with the caller's admin client (run_demo() keeps one for the whole run: see stream_live_races()).
int32_t create_race_topic(kafka::Admin& admin, const std::string& topic, int32_t partitions, bool reuse = false);

// Produces races first_race_id ... + count - 1 of `seed`, simulated one at a
// time (telemetry lines, then the result line), key = race id, partition =
// race id modulo the topic's partitions, and waits for delivery. Returns the
// records delivered; throws kafka::KafkaException when any was not.
size_t produce_races(const kafka::Config& config, const std::string& topic, uint64_t seed, int64_t first_race_id,
                     size_t count);

struct LiveStreamOptions {
  double speed = 20.0;           // race time runs this many times faster than real time (> 0)
  size_t concurrent_races = 20;  // about this many races run at once (starts are staggered, >= 1)
  // Partitions of the live topic when the caller knows them (it created the topic); 0: ask the broker with
  // a short-lived admin client. run_demo() passes them: destroying a client created moments before, while
  // its broker threads may still be refreshing metadata, can trip librdkafka's
  // rd_kafka_broker_destroy_final assertion (confluentinc/librdkafka#3608).
  int32_t partitions = 0;
};

// Streams the races' telemetry to `topic` in accelerated real time: race i
// starts at i x (mean race duration / concurrent_races) race seconds, each
// tick's records are produced when due, stamped with kProducedAtHeader.
// Returns the records delivered (stops early when `stop` is set).
size_t stream_live_races(const kafka::Config& config, const std::string& topic, const std::vector<Race>& races,
                         const LiveStreamOptions& options, const std::atomic<bool>& stop);

struct DemoOptions {
  std::string brokers;                 // "" = embedded cluster
  std::vector<std::string> properties;  // extra librdkafka key=value
  uint64_t seed = 42;                  // simulator seed
  size_t history_races = 500;          // races in the history topic
  size_t live_races = 200;             // live races
  LiveStreamOptions live;              // pacing of the live stream
  RaceModelOptions model;              // live/pre-race model training
  std::string topic_prefix = "race";   // topics <prefix>-history, -live, -rankings
  std::string out_dir = "demo-out";    // report.md, late_surge.svg, models
  bool quiet = false;                  // only the progress line every 5 s instead of the board
  std::FILE* out = nullptr;            // board and report (nullptr: stdout)
  LeaderboardPrinter::Mode mode = LeaderboardPrinter::Mode::kAuto;  // board mode
  LeaderboardObserver* observer = nullptr;  // also sees every ranking and the progress (e.g. race_web.h)
};

struct DemoSummary {
  DemoReport report;
  size_t history_records = 0;
  size_t live_records = 0;
  size_t rankings = 0;
  size_t rejected = 0;
  size_t probability_sum_violations = 0;
  std::map<int64_t, size_t> rankings_per_race;
  std::vector<Race> live_races;
  double seconds = 0.0;
};

// Runs every step. Throws ConfigError / kafka::KafkaException / InputError.
DemoSummary run_demo(const DemoOptions& options, const std::atomic<bool>& stop);

// The live races of a demo: ids history_races + 1 ... + live_races of the seed.
std::vector<Race> simulate_races(uint64_t seed, int64_t first_race_id, size_t count);

}  // namespace streamml::demo
