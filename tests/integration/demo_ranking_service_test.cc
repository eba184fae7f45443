// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RankingService (serve::Server with a RaceRankingProcessor) against the
// embedded cluster or STREAMML_TEST_BOOTSTRAP: one ranking per telemetry
// record with the race's key, the produce-time header and the server's source
// headers; stale records rejected and counted; errors of the server thread
// rethrown by stop(). The scorer is a stand-in (no model file needed).
#include "horse_race/ranking_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "horse_race/race.h"
#include "horse_race/race_ranking.h"
#include "horse_race/race_record.h"
#include "streamml/common/error.h"
#include "streamml/kafka/producer.h"
#include "support/test_kafka.h"

namespace streamml::demo {
namespace {

using namespace std::chrono_literals;
using testing::TestKafka;

// Logits that favour the lowest horse numbers: a deterministic ranking without a model.
serve::ProcessorFactory stand_in_factory() {
  return [] {
    LogitScorer scorer = [](const FeatureMatrix& m) {
      std::vector<float> logits(m.rows);
      for (size_t i = 0; i < m.rows; ++i) logits[i] = -static_cast<float>(m.horses[i]);
      return logits;
    };
    return std::make_unique<RaceRankingProcessor>(std::move(scorer), FeatureSet::kLive,
                                                  RaceRankingOptions{.version = "stand-in"});
  };
}

std::string header(const kafka::Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return h.value.value_or("<null>");
  }
  return "<none>";
}

TEST(DemoRankingService, EveryRecordGetsItsRankingWithTheRaceKeyAndHeaders) {
  auto& kafka = TestKafka::get();
  const std::string live = kafka.create_topic("ranking-live", 2);
  const std::string rankings = kafka.create_topic("ranking-out", 3);  // not 2: rankings partitioned by race key
  RankingServiceOptions options;
  options.input_topic = live;
  options.output_topic = rankings;
  options.group = kafka.unique_name("ranking-group");
  RankingService service(kafka.config(), options, stand_in_factory());
  const std::atomic<bool> never{false};
  ASSERT_TRUE(service.wait_until_assigned(never, 60s)) << "no partitions assigned";
  EXPECT_EQ(service.stats().assigned_partitions, 2u);

  // The first 3 ticks of one race, then its very first record again (a redelivery: stale).
  const Race race = RaceSimulator(RaceSimulatorOptions{.seed = 5}).generate(7);
  ASSERT_GE(race.ticks.size(), 3u);
  std::vector<Telemetry> records;
  for (size_t k = 0; k < 3; ++k) records.insert(records.end(), race.ticks[k].begin(), race.ticks[k].end());
  records.push_back(records.front());
  const std::string key = race_record_key(race.race_id);
  std::map<int64_t, std::string> produced_at;  // live offset -> produce-time header
  {
    kafka::Producer producer(kafka.config());
    for (size_t i = 0; i < records.size(); ++i) {
      const std::string value = encode_telemetry(records[i]);
      const std::string stamp = std::to_string(wall_clock_us());
      produced_at[static_cast<int64_t>(i)] = stamp;
      kafka::ProduceRecord r;
      r.topic = live;
      r.partition = 1;
      r.key = std::string_view(key);
      r.value = value;
      r.headers.push_back({std::string(kProducedAtHeader), stamp});
      ASSERT_TRUE(producer.produce(r).ok());
    }
    ASSERT_TRUE(producer.flush().ok());
  }
  const size_t rankings_expected = records.size() - 1;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (service.stats().records_in < records.size() && !service.failed() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const serve::ServerStats stats = service.stop();
  EXPECT_EQ(stats.records_in, records.size());
  EXPECT_EQ(stats.records_out, rankings_expected);
  EXPECT_EQ(stats.rejected, 1u);  // the stale copy, counted, not dropped silently

  std::vector<testing::ReadRecord> out = testing::read_all(rankings);
  ASSERT_EQ(out.size(), rankings_expected);
  int64_t last_source = -1;
  for (const testing::ReadRecord& r : out) {
    EXPECT_EQ(r.partition, out.front().partition) << "one race, one partition";
    ASSERT_TRUE(r.key.has_value());
    EXPECT_EQ(*r.key, key);
    const int64_t source = std::stoll(header(r.headers, "streamml.source.offset"));
    EXPECT_GT(source, last_source) << "rankings in the order of their records";
    last_source = source;
    EXPECT_EQ(header(r.headers, kProducedAtHeader), produced_at[source]) << "ranking of live offset " << source;
    EXPECT_EQ(header(r.headers, "streamml.source.topic"), live);
    EXPECT_EQ(header(r.headers, "streamml.source.partition"), "1");
    EXPECT_EQ(header(r.headers, serve::kHeaderModelVersion), "stand-in");
    const RankingRecord ranking = parse_ranking(r.value, "ranking");
    EXPECT_EQ(ranking.race_id, race.race_id);
    EXPECT_EQ(ranking.horse, records[static_cast<size_t>(source)].horse);
    EXPECT_NEAR(ranking.probability_sum(), 1.0, 1e-3);
  }
}

// A batch that takes longer than the idle timeout is not idle time: the wait
// ends only once it was served (the steps test's service once stopped with
// its first batch still being scored, under ASan, and left the rest unserved).
TEST(DemoRankingService, IdleWaitOutlastsASlowBatch) {
  auto& kafka = TestKafka::get();
  RankingServiceOptions options;
  options.input_topic = kafka.create_topic("ranking-live", 1);
  options.output_topic = kafka.create_topic("ranking-out", 1);
  options.group = kafka.unique_name("ranking-group");
  serve::ProcessorFactory slow = [] {
    LogitScorer scorer = [](const FeatureMatrix& m) {
      std::this_thread::sleep_for(3s);  // longer than the idle timeout below
      return std::vector<float>(m.rows, 0.0f);
    };
    return std::make_unique<RaceRankingProcessor>(std::move(scorer), FeatureSet::kLive,
                                                  RaceRankingOptions{.version = "slow"});
  };
  RankingService service(kafka.config(), options, std::move(slow));
  const std::atomic<bool> never{false};
  ASSERT_TRUE(service.wait_until_assigned(never, 60s)) << "no partitions assigned";
  const Race race = RaceSimulator(RaceSimulatorOptions{.seed = 5}).generate(7);
  ASSERT_FALSE(race.ticks.empty());
  const std::vector<Telemetry>& tick = race.ticks.front();
  {
    kafka::Producer producer(kafka.config());
    for (const Telemetry& t : tick) {
      const std::string value = encode_telemetry(t);
      kafka::ProduceRecord r;
      r.topic = options.input_topic;
      r.partition = 0;
      r.value = value;
      ASSERT_TRUE(producer.produce(r).ok());
    }
    ASSERT_TRUE(producer.flush().ok());
  }
  service.wait_until_idle(never, 2s);
  const serve::ServerStats idle = service.stats();
  EXPECT_EQ(idle.records_received, tick.size());
  EXPECT_EQ(idle.records_in_flight, 0u) << "the wait ended with a batch in flight";
  EXPECT_EQ(idle.records_in, tick.size());
  EXPECT_EQ(service.stop().records_out, tick.size());
}

TEST(DemoRankingService, AServerErrorIsRethrownByStop) {
  auto& kafka = TestKafka::get();
  RankingServiceOptions options;
  options.input_topic = kafka.unique_name("ranking-missing");  // never created
  options.output_topic = kafka.create_topic("ranking-out", 1);
  options.group = kafka.unique_name("ranking-group");
  RankingService service(kafka.config(), options, stand_in_factory());
  const std::atomic<bool> never{false};
  EXPECT_FALSE(service.wait_until_assigned(never, 60s));
  EXPECT_TRUE(service.failed());
  EXPECT_THROW(service.stop(), kafka::KafkaException);
}

TEST(DemoRankingService, OptionsAreValidated) {
  const kafka::Config config = TestKafka::get().config();
  RankingServiceOptions options;
  options.output_topic = "rankings";
  EXPECT_THROW(RankingService(config, options, stand_in_factory()), ConfigError);
  options.input_topic = "live";
  options.output_topic = "";
  EXPECT_THROW(RankingService(config, options, stand_in_factory()), ConfigError);
  options.output_topic = "rankings";
  options.max_batch = 0;
  EXPECT_THROW(RankingService(config, options, stand_in_factory()), ConfigError);
  EXPECT_THROW(race_ranking_factory(nullptr), ConfigError);
}

}  // namespace
}  // namespace streamml::demo
