// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_demo.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "horse_race/race_ranking.h"
#include "horse_race/race_ranking_processor.h"
#include "horse_race/race_record.h"
#include "horse_race/ranking_service.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"

namespace streamml::demo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPartitionBudgetBytes = 5u << 19;  // 2.5 MiB: half the embedded cluster's retention
// A ranking record: the line without its entries, one entry per horse, and the headers (the tick's produce
// time, then serve::Server's streamml.source.topic/partition/offset/timestamp and streamml.model.version).
constexpr size_t kRankingBytes = 110;
constexpr size_t kRankingEntryBytes = 30;
constexpr size_t kRankingHeaderBytes = 220;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int32_t topic_partitions(const kafka::Config& config, const std::string& topic) {
  kafka::Admin admin(config);
  const auto n = static_cast<int32_t>(admin.describe_topic(topic).partitions.size());
  if (n <= 0) throw kafka::KafkaException(-1, fmt::format("topic '{}' has no partitions", topic));
  return n;
}

void check_delivery(kafka::Producer& producer, size_t produced, const std::string& topic) {
  const kafka::FlushResult flushed = producer.flush(kafka::kDefaultFlushTimeout);
  if (!flushed.ok() || producer.delivered_count() != static_cast<int64_t>(produced)) {
    throw kafka::KafkaException(-1, fmt::format("{} of {} record(s) to '{}' not delivered ({} failed, {} still queued)",
                                         static_cast<int64_t>(produced) - producer.delivered_count(), produced, topic,
                                         flushed.failed, flushed.still_queued));
  }
}

}  // namespace

int32_t partitions_for_bytes(size_t bytes, int32_t min) {
  const auto needed = static_cast<int32_t>((bytes + kPartitionBudgetBytes - 1) / kPartitionBudgetBytes);
  return std::max(std::max(min, 1), needed);
}

size_t race_history_bytes(uint64_t seed, int64_t first_race_id, size_t count) {
  const RaceSimulator simulator(RaceSimulatorOptions{.seed = seed});
  size_t bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    for (const std::string& line : encode_race_history(simulator.generate(first_race_id + static_cast<int64_t>(i)))) {
      bytes += line.size() + 16;  // value plus key and record overhead
    }
  }
  return bytes;
}

size_t race_live_bytes(const std::vector<Race>& races) {
  // stream_live_races() stamps every record with kProducedAtHeader: a name and a microsecond wall-clock time.
  const size_t header_bytes = kProducedAtHeader.size() + std::to_string(wall_clock_us()).size();
  size_t bytes = 0;
  for (const Race& race : races) {
    const size_t key_bytes = race_record_key(race.race_id).size();
    for (const Tick& tick : race.ticks) {
      for (const Telemetry& t : tick) bytes += encode_telemetry(t).size() + key_bytes + header_bytes;
    }
  }
  return bytes;
}

size_t race_rankings_bytes(const std::vector<Race>& races) {
  size_t bytes = 0;
  for (const Race& race : races) {
    bytes += race.num_records() * (kRankingBytes + kRankingEntryBytes * race.horses.size() + kRankingHeaderBytes);
  }
  return bytes;
}

int32_t create_race_topic(const kafka::Config& config, const std::string& topic, int32_t partitions, bool reuse) {
  kafka::Admin admin(config);
  return create_race_topic(admin, topic, partitions, reuse);
}

int32_t create_race_topic(kafka::Admin& admin, const std::string& topic, int32_t partitions, bool reuse) {
  if (admin.topic_exists(topic)) {
    if (!reuse) {
      throw ConfigError(fmt::format("topic '{}' already exists: choose another --topic-prefix or delete it", topic));
    }
    return static_cast<int32_t>(admin.describe_topic(topic).partitions.size());
  }
  kafka::NewTopic spec;
  spec.name = topic;
  spec.partitions = partitions;
  try {
    admin.create_topics({spec});
  } catch (const kafka::KafkaException&) {
    // Another step may have created it in the meantime (serve and leaderboard both ensure the rankings topic).
    if (!reuse || !admin.topic_exists(topic)) throw;
  }
  admin.wait_for_topic(topic);
  log_info("created topic '{}' with {} partition(s)", topic, partitions);
  return partitions;
}

std::vector<Race> simulate_races(uint64_t seed, int64_t first_race_id, size_t count) {
  const RaceSimulator simulator(RaceSimulatorOptions{.seed = seed});
  std::vector<Race> races;
  races.reserve(count);
  for (size_t i = 0; i < count; ++i) races.push_back(simulator.generate(first_race_id + static_cast<int64_t>(i)));
  return races;
}

size_t produce_races(const kafka::Config& config, const std::string& topic, uint64_t seed, int64_t first_race_id,
                     size_t count) {
  const int32_t partitions = topic_partitions(config, topic);
  kafka::Config producer_config = config;
  producer_config.set_default("linger.ms", "20");
  producer_config.set_default("queue.buffering.max.messages", "1000000");
  kafka::Producer producer(producer_config);
  const RaceSimulator simulator(RaceSimulatorOptions{.seed = seed});
  size_t produced = 0;
  for (size_t i = 0; i < count; ++i) {
    const int64_t id = first_race_id + static_cast<int64_t>(i);
    const std::string key = race_record_key(id);
    for (const std::string& line : encode_race_history(simulator.generate(id))) {
      kafka::ProduceRecord record;
      record.topic = topic;
      record.partition = static_cast<int32_t>(id % partitions);
      record.key = key;
      record.value = line;
      const kafka::KafkaError err = producer.produce(record);
      if (!err.ok()) {
        throw kafka::KafkaException(err.code(), fmt::format("producing race {} to '{}': {}", id, topic, err.message()));
      }
      ++produced;
    }
    producer.poll();
  }
  check_delivery(producer, produced, topic);
  return produced;
}

size_t stream_live_races(const kafka::Config& config, const std::string& topic, const std::vector<Race>& races,
                         const LiveStreamOptions& options, const std::atomic<bool>& stop) {
  if (!(options.speed > 0.0) || !std::isfinite(options.speed)) {
    throw ConfigError(fmt::format("--speed {} is invalid: use a number > 0", options.speed));
  }
  if (options.concurrent_races == 0) throw ConfigError("--concurrent-races must be >= 1");
  if (races.empty()) return 0;
  const int32_t partitions = options.partitions > 0 ? options.partitions : topic_partitions(config, topic);

  // Schedule: race i starts at i * stagger race seconds; one event per tick of a race.
  double total_duration = 0.0;
  for (const Race& race : races) total_duration += static_cast<double>(race.ticks.size()) * race.tick_s;
  const double stagger = total_duration / static_cast<double>(races.size()) /
                         static_cast<double>(options.concurrent_races);
  struct Event {
    double at_s;
    uint32_t race;
    uint32_t tick;
  };
  std::vector<Event> events;
  for (size_t i = 0; i < races.size(); ++i) {
    for (size_t k = 0; k < races[i].ticks.size(); ++k) {
      events.push_back({static_cast<double>(i) * stagger + static_cast<double>(k) * races[i].tick_s,
                        static_cast<uint32_t>(i), static_cast<uint32_t>(k)});
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at_s < b.at_s; });

  kafka::Config producer_config = config;
  producer_config.set_default("linger.ms", "1");
  kafka::Producer producer(producer_config);
  producer.start_poll_thread();
  size_t produced = 0;
  const auto start = Clock::now();
  for (const Event& event : events) {
    if (stop.load()) break;
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(event.at_s / options.speed));
    if (due > Clock::now()) std::this_thread::sleep_until(due);
    const Race& race = races[event.race];
    const std::string key = race_record_key(race.race_id);
    for (const Telemetry& t : race.ticks[event.tick]) {
      const std::string value = encode_telemetry(t);
      kafka::ProduceRecord record;
      record.topic = topic;
      record.partition = static_cast<int32_t>(race.race_id % partitions);
      record.key = key;
      record.value = value;
      record.headers.push_back({std::string(kProducedAtHeader), std::to_string(wall_clock_us())});
      const kafka::KafkaError err = producer.produce(record);
      if (!err.ok()) {
        throw kafka::KafkaException(err.code(),
                             fmt::format("producing race {} to '{}': {}", race.race_id, topic, err.message()));
      }
      ++produced;
    }
  }
  check_delivery(producer, produced, topic);
  return produced;
}

DemoSummary run_demo(const DemoOptions& options, const std::atomic<bool>& stop) {
  const auto start = Clock::now();
  if (options.history_races == 0) throw ConfigError("--history-races must be >= 1");
  if (options.live_races == 0) throw ConfigError("--live-races must be >= 1");
  std::FILE* out = options.out != nullptr ? options.out : stdout;
  DemoSummary summary;

  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::Config config;
  if (options.brokers.empty() || options.brokers == "embedded") {
    cluster = std::make_unique<kafka::EmbeddedCluster>();
    config.set("bootstrap.servers", cluster->bootstrap_servers());
    log_info("embedded cluster at {}", cluster->bootstrap_servers());
  } else {
    config.set("bootstrap.servers", options.brokers);
  }
  for (const std::string& p : options.properties) config.set_property(p);
  std::filesystem::create_directories(options.out_dir);
  // One admin client for the whole run rather than one per topic (see LiveStreamOptions::partitions).
  kafka::Admin admin(config);

  const std::string history_topic = options.topic_prefix + "-history";
  const std::string live_topic = options.topic_prefix + "-live";
  const std::string rankings_topic = options.topic_prefix + "-rankings";
  const auto first_live = static_cast<int64_t>(options.history_races) + 1;

  // 1. History.
  auto step = Clock::now();
  const size_t history_bytes = race_history_bytes(options.seed, 1, options.history_races);
  create_race_topic(admin, history_topic, partitions_for_bytes(history_bytes));
  summary.history_records = produce_races(config, history_topic, options.seed, 1, options.history_races);
  log_info("history: {} races, {} records ({:.1f} MiB) to '{}' in {:.1f} s", options.history_races,
           summary.history_records, static_cast<double>(history_bytes) / (1 << 20), history_topic,
           seconds_since(step));

  // 2. Training from the history topic.
  step = Clock::now();
  RaceTrainingSet training(options.model.tick_stride);
  const RaceHistoryStats read =
      read_race_history(config, {history_topic}, [&](const RecordedRace& race) { training.add(race); });
  if (read.races != options.history_races) {
    throw DataLossError(fmt::format("history topic '{}': read back {} of {} races", history_topic, read.races,
                                    options.history_races));
  }
  auto live_model = std::make_shared<model::Model>(training.train(FeatureSet::kLive, options.model));
  auto form_model = std::make_shared<model::Model>(training.train(FeatureSet::kFormOnly, options.model));
  live_model->set_offsets(read.offsets);
  form_model->set_offsets(read.offsets);
  const std::string live_path = (std::filesystem::path(options.out_dir) / "live_model.smlm").string();
  const std::string form_path = (std::filesystem::path(options.out_dir) / "form_model.smlm").string();
  live_model->save(live_path);
  form_model->save(form_path);
  log_info("training: {} races, {} live rows, {} pre-race rows from '{}' in {:.1f} s; saved {} and {}", read.races,
           training.rows(FeatureSet::kLive), training.rows(FeatureSet::kFormOnly), history_topic, seconds_since(step),
           live_path, form_path);

  // 3-5. Live stream, ranking service, leaderboard.
  summary.live_races = simulate_races(options.seed, first_live, options.live_races);
  std::map<int64_t, int32_t> winners;
  for (const Race& race : summary.live_races) winners[race.race_id] = race.result.winner();
  LiveStreamOptions live_options = options.live;
  live_options.partitions =
      create_race_topic(admin, live_topic, partitions_for_bytes(race_live_bytes(summary.live_races)));
  create_race_topic(admin, rankings_topic, partitions_for_bytes(race_rankings_bytes(summary.live_races)));
  size_t expected = 0;
  for (const Race& race : summary.live_races) expected += race.num_records();

  // The ranking service: serve::Server with the race processor, on a thread the service object owns.
  RankingServiceOptions service_options;
  service_options.input_topic = live_topic;
  service_options.output_topic = rankings_topic;
  service_options.group = options.topic_prefix + "-ranking-service";
  RankingService service(config, service_options,
                         race_ranking_factory(live_model, RaceRankingOptions{.version = "live_model.smlm"}));
  std::atomic<bool> stop_workers{false};
  std::exception_ptr stream_error;
  std::thread streamer([&] {
    try {
      // Start the races once the service owns the live partitions, so the first ticks do not wait for the
      // group join (it is not part of the latency the report measures).
      if (!service.wait_until_assigned(stop_workers, std::chrono::seconds(30)) && !stop_workers.load() &&
          !service.failed()) {
        log_warn("ranking service: no partitions assigned after 30 s; streaming anyway");
      }
      summary.live_records = stream_live_races(config, live_topic, summary.live_races, live_options, stop_workers);
    } catch (...) {
      stream_error = std::current_exception();
      stop_workers.store(true);
    }
  });
  step = Clock::now();
  LeaderboardRunOptions board;
  board.topic = rankings_topic;
  board.expected_rankings = expected;
  board.out = out;
  board.mode = options.mode;
  board.quiet = options.quiet;
  board.observer = options.observer;
  // The leaderboard stops on the caller's stop or a failed worker; a failed service stops the stream too.
  std::atomic<bool> board_stop{false};
  std::thread watcher([&] {
    while (!board_stop.load()) {
      if (service.failed()) stop_workers.store(true);
      if (stop.load() || stop_workers.load()) {
        board_stop.store(true);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  LeaderboardResult leaderboard;
  std::exception_ptr board_error;
  try {
    leaderboard = run_leaderboard(config, board, winners, board_stop);
  } catch (...) {
    board_error = std::current_exception();
  }
  // Every tick has its ranking (or the leaderboard gave up): stop the stream and the service.
  board_stop.store(true);
  stop_workers.store(true);
  watcher.join();
  streamer.join();
  serve::ServerStats service_stats;
  std::exception_ptr service_error;
  try {
    service_stats = service.stop();
  } catch (...) {
    service_error = std::current_exception();
  }
  if (stream_error) std::rethrow_exception(stream_error);
  if (service_error) std::rethrow_exception(service_error);
  if (board_error) std::rethrow_exception(board_error);
  log_info("live: {} records streamed, {} rankings, {} rejected, {} ranking(s) read in {:.1f} s",
           summary.live_records, service_stats.records_out, service_stats.rejected, leaderboard.rankings,
           seconds_since(step));
  summary.rankings = leaderboard.rankings;
  summary.rejected = service_stats.rejected;
  summary.probability_sum_violations = leaderboard.probability_sum_violations;
  summary.rankings_per_race = leaderboard.rankings_per_race;

  // 6. Report.
  std::vector<std::string> settings = {
      fmt::format("seed {}, {} history races, {} live races, speed {}x, about {} races at once", options.seed,
                  options.history_races, options.live_races, options.live.speed, options.live.concurrent_races),
      fmt::format("topics: '{}' ({} records), '{}' ({} records), '{}' ({} rankings)", history_topic,
                  summary.history_records, live_topic, summary.live_records, rankings_topic, summary.rankings),
      fmt::format("live model: {} on {} features, {} rows; pre-race model: {} on {} form features, {} rows",
                  options.model.spec, feature_names(FeatureSet::kLive).size(), training.rows(FeatureSet::kLive),
                  options.model.spec, feature_names(FeatureSet::kFormOnly).size(),
                  training.rows(FeatureSet::kFormOnly)),
  };
  summary.report = make_demo_report(leaderboard.traces, summary.live_races, model_scorer(form_model),
                                    leaderboard.latencies_us, settings);
  {
    std::ofstream md(std::filesystem::path(options.out_dir) / "report.md");
    md << summary.report.markdown;
    if (!md) throw InputError(fmt::format("cannot write {}/report.md", options.out_dir));
  }
  if (!summary.report.chart_svg.empty()) {
    std::ofstream svg(std::filesystem::path(options.out_dir) / "late_surge.svg");
    svg << summary.report.chart_svg;
    if (!svg) throw InputError(fmt::format("cannot write {}/late_surge.svg", options.out_dir));
  }
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace streamml::demo
