// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_ranking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "horse_race/race_ranking_processor.h"
#include "horse_race/race_record.h"
#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

RankingRecord sample_ranking() {
  RankingRecord r;
  r.race_id = 17;
  r.time_s = 42.5;
  r.horse = 3;
  r.tick_complete = true;
  r.race_distance_m = 1600;
  r.leader_progress = 0.46;
  r.contestants = 3;
  r.update = 255;
  r.service_us = 11.25;
  r.entries = {{2, 1, 0.61, 736.5, false}, {3, 2, 0.3, 731.125, false}, {1, 3, 0.09, 720, true}};
  return r;
}

TEST(RaceRankingTest, RoundTrips) {
  const RankingRecord r = sample_ranking();
  const std::string line = encode_ranking(r);
  EXPECT_TRUE(line.starts_with("ranking,17,42.5,3,1,1600,0.46,3,255,11.25,2:1:0.61:736.5:0|")) << line;
  const RankingRecord back = parse_ranking(line);
  EXPECT_EQ(back.race_id, 17);
  EXPECT_DOUBLE_EQ(back.time_s, 42.5);
  EXPECT_EQ(back.horse, 3);
  EXPECT_TRUE(back.tick_complete);
  EXPECT_EQ(back.update, 255u);
  ASSERT_EQ(back.entries.size(), 3u);
  EXPECT_EQ(back.entries[0].horse, 2);
  EXPECT_EQ(back.entries[2].position, 3);
  EXPECT_TRUE(back.entries[2].finished);
  EXPECT_DOUBLE_EQ(back.entries[1].distance_m, 731.125);
  EXPECT_NEAR(back.probability_sum(), 1.0, 1e-9);
  const LeaderboardView view = back.view();
  EXPECT_EQ(view.race_id, 17);
  EXPECT_EQ(view.entries.size(), 3u);
}

TEST(RaceRankingTest, RejectsMalformedLinesNamingTheField) {
  std::string line = encode_ranking(sample_ranking());
  try {
    parse_ranking(line.replace(line.find("0.61"), 4, "abc"), "rankings:2:7");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("rankings:2:7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("entries"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_ranking("ranking,1,2"), InputError);
  EXPECT_THROW(parse_ranking("result,17,1600,3,2|3|1,95.5|95.6|96"), InputError);
  // Horse number beyond the field size.
  RankingRecord bad = sample_ranking();
  bad.entries[0].horse = 9;
  EXPECT_THROW(parse_ranking(encode_ranking(bad)), InputError);
}

TEST(RaceRankingTest, ProducedAtHeader) {
  kafka::Headers headers = {{"other", "1"}, {std::string(kProducedAtHeader), "1700000000123456"}};
  ASSERT_TRUE(produced_at_us(headers).has_value());
  EXPECT_EQ(*produced_at_us(headers), 1700000000123456);
  EXPECT_FALSE(produced_at_us({{std::string(kProducedAtHeader), "12x"}}).has_value());
  EXPECT_FALSE(produced_at_us({{std::string(kProducedAtHeader), std::nullopt}}).has_value());
  EXPECT_FALSE(produced_at_us({}).has_value());
  EXPECT_GT(wall_clock_us(), 1600000000000000);
}

TEST(RaceRankingTest, TickProducedFallsBackToTheSourceTimestamp) {
  const std::string produced(kProducedAtHeader);
  // The live producer's header wins (microseconds).
  EXPECT_EQ(tick_produced_us({{"streamml.source.timestamp", "1700000000999"}, {produced, "1700000000123456"}}),
            std::optional<int64_t>(1700000000123456));
  // Without it: the serving loop's copy of the live record's Kafka timestamp (milliseconds).
  EXPECT_EQ(tick_produced_us({{"streamml.source.timestamp", "1700000000999"}}),
            std::optional<int64_t>(1700000000999000));
  EXPECT_FALSE(tick_produced_us({{"streamml.source.timestamp", "-1"}}).has_value());
  EXPECT_FALSE(tick_produced_us({{"streamml.source.timestamp", "soon"}}).has_value());
  EXPECT_FALSE(tick_produced_us({{"other", "1"}}).has_value());
}

TEST(RaceRankingTest, TraceBuilderKeepsCompleteTicksInOrder) {
  RankingTraceBuilder builder;
  RankingRecord r = sample_ranking();
  r.tick_complete = false;
  EXPECT_TRUE(builder.add(r));
  EXPECT_EQ(builder.races(), 0u);  // incomplete ticks are not traced
  r.tick_complete = true;
  EXPECT_TRUE(builder.add(r));
  EXPECT_FALSE(builder.add(r));  // same time again: stale
  r.time_s = 43.0;
  EXPECT_TRUE(builder.add(r));
  EXPECT_FALSE(builder.finish(99, 1).has_value());
  const auto trace = builder.finish(17, 2);
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->winner, 2);
  ASSERT_EQ(trace->ticks.size(), 2u);
  EXPECT_EQ(trace->horses, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(trace->probability(0, 2), 0.61);
  EXPECT_EQ(trace->ticks[0].positions[0], 3);  // horse 1 is third
  EXPECT_EQ(builder.races(), 0u);
}

// A scorer that prefers the horses in front: logit = -5 * position_frac.
LogitScorer position_scorer(int* calls) {
  return [calls](const FeatureMatrix& m) {
    ++*calls;
    std::vector<float> logits(m.rows);
    for (size_t r = 0; r < m.rows; ++r) logits[r] = -5.0f * m.at(r, 2);
    return logits;
  };
}

data::Batch batch_of(const std::vector<std::string>& lines, int64_t first_offset) {
  data::Batch batch;
  for (size_t i = 0; i < lines.size(); ++i) {
    data::RecordMeta meta;
    meta.topic = "live";
    meta.partition = 0;
    meta.offset = first_offset + static_cast<int64_t>(i);
    meta.has_key = true;
    meta.key = "k";
    meta.headers = {{std::string(kProducedAtHeader), std::to_string(1000 + i)}};
    batch.meta.push_back(meta);
    batch.payloads.push_back(lines[i]);
    ++batch.size;
  }
  return batch;
}

TEST(RaceRankingProcessorTest, OneRankingPerRecordSummingToOne) {
  const Race race = RaceSimulator(RaceSimulatorOptions{.seed = 5}).generate(3);
  std::vector<std::string> lines;
  for (const Tick& tick : race.ticks) {
    for (const Telemetry& t : tick) lines.push_back(encode_telemetry(t));
  }
  int calls = 0;
  RaceRankingProcessor processor(position_scorer(&calls));
  std::vector<serve::ProcessResult> results;
  size_t complete = 0;
  size_t batches = 0;
  constexpr size_t kBatch = 37;  // not a multiple of the field size: ticks straddle batches
  for (size_t begin = 0; begin < lines.size(); begin += kBatch) {
    const std::vector<std::string> chunk(lines.begin() + static_cast<std::ptrdiff_t>(begin),
                                         lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), begin + kBatch)));
    processor.process(batch_of(chunk, static_cast<int64_t>(begin)), results);
    ++batches;
    ASSERT_EQ(results.size(), chunk.size());
    for (size_t i = 0; i < results.size(); ++i) {
      ASSERT_TRUE(results[i].output.has_value()) << results[i].error;
      const RankingRecord r = parse_ranking(results[i].output->value);
      EXPECT_NEAR(r.probability_sum(), 1.0, 1e-4);
      EXPECT_EQ(r.race_id, race.race_id);
      EXPECT_EQ(r.horse, parse_telemetry(chunk[i]).horse);
      EXPECT_EQ(results[i].output->key, "k");
      ASSERT_EQ(results[i].output->headers.size(), 1u);
      EXPECT_EQ(results[i].output->headers[0].value, std::to_string(1000 + i));
      if (r.time_s > 0.0) {
        EXPECT_EQ(r.entries.size(), race.horses.size());  // the whole field after the start
      }
      if (r.tick_complete) {
        // The scorer prefers the front: on a complete tick the favourite is the current leader.
        EXPECT_EQ(r.entries.front().position, 1);
        ++complete;
      }
    }
  }
  EXPECT_EQ(complete, race.ticks.size());
  EXPECT_EQ(calls, static_cast<int>(batches));  // one forward pass per micro-batch
  EXPECT_EQ(processor.rankings(), lines.size());
  EXPECT_EQ(processor.active_races(), 0u);  // forgotten once every horse finished
}

// Regression (issue 19): in a small demo run the final board ranked a loser
// above the winner, and the winner's probability fell from 97 % to 25 % after
// it crossed the line. A model that prefers the back of the field (the worst
// case) must not reorder runners that have finished.
TEST(RaceRankingProcessorTest, FinishedRunnersKeepTheirFinishingOrderWhateverTheModelSays) {
  const Race race = RaceSimulator(RaceSimulatorOptions{.seed = 5}).generate(3);
  std::vector<std::string> lines;
  for (const Tick& tick : race.ticks) {
    for (const Telemetry& t : tick) lines.push_back(encode_telemetry(t));
  }
  RaceRankingProcessor processor([](const FeatureMatrix& m) {
    std::vector<float> logits(m.rows);
    for (size_t r = 0; r < m.rows; ++r) logits[r] = 5.0f * m.at(r, 2);  // the back of the field wins
    return logits;
  });
  const int32_t winner = race.result.winner();
  bool winner_finished = false;
  RankingRecord last;
  std::vector<serve::ProcessResult> results;
  constexpr size_t kBatch = 37;
  for (size_t begin = 0; begin < lines.size(); begin += kBatch) {
    const std::vector<std::string> chunk(
        lines.begin() + static_cast<std::ptrdiff_t>(begin),
        lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), begin + kBatch)));
    processor.process(batch_of(chunk, static_cast<int64_t>(begin)), results);
    for (size_t i = 0; i < results.size(); ++i) {
      ASSERT_TRUE(results[i].output.has_value()) << results[i].error;
      const RankingRecord r = parse_ranking(results[i].output->value);
      EXPECT_NEAR(r.probability_sum(), 1.0, 1e-4);
      // Among finished runners, the better finishing position is always ranked higher.
      int32_t previous_finisher = 0;
      for (const LeaderboardEntry& e : r.entries) {
        if (!e.finished) continue;
        EXPECT_GT(e.position, previous_finisher) << "race " << r.race_id << " t=" << r.time_s;
        previous_finisher = e.position;
        if (e.horse == winner) winner_finished = true;
      }
      if (winner_finished) {
        // From the record that shows the winner over the line on, it leads with certainty.
        ASSERT_FALSE(r.entries.empty());
        EXPECT_EQ(r.entries.front().horse, winner) << "t=" << r.time_s;
        EXPECT_DOUBLE_EQ(r.entries.front().probability, 1.0) << "t=" << r.time_s;
      }
      last = r;
    }
  }
  // The final board is the official result.
  std::vector<int32_t> final_order;
  for (const LeaderboardEntry& e : last.entries) final_order.push_back(e.horse);
  EXPECT_EQ(final_order, race.result.finish_order);
}

TEST(RaceRankingProcessorTest, RejectsBadAndStaleRecordsWithoutThrowing) {
  const Race race = RaceSimulator(RaceSimulatorOptions{.seed = 5}).generate(4);
  const std::string first = encode_telemetry(race.ticks[1][0]);
  const std::string older = encode_telemetry(race.ticks[0][0]);
  int calls = 0;
  RaceRankingProcessor processor(position_scorer(&calls));
  std::vector<serve::ProcessResult> results;
  processor.process(batch_of({first, "not,a,record", first, older}, 10), results);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].output.has_value());
  EXPECT_FALSE(results[1].output.has_value());
  EXPECT_NE(results[1].error.find("live:0:11"), std::string::npos) << results[1].error;
  EXPECT_FALSE(results[2].output.has_value());  // duplicate
  EXPECT_NE(results[2].error.find("duplicate"), std::string::npos) << results[2].error;
  EXPECT_FALSE(results[3].output.has_value());  // older than the horse's latest record
  EXPECT_EQ(processor.rejected(), 3u);
  EXPECT_EQ(processor.rankings(), 1u);
}

TEST(RaceRankingProcessorTest, ScorerReturningTheWrongCountEndsTheService) {
  RaceRankingProcessor processor([](const FeatureMatrix&) { return std::vector<float>{1.0f}; });
  const Race race = RaceSimulator(RaceSimulatorOptions{.seed = 5}).generate(4);
  std::vector<serve::ProcessResult> results;
  std::vector<std::string> lines;
  for (const Telemetry& t : race.ticks[0]) lines.push_back(encode_telemetry(t));
  EXPECT_THROW(processor.process(batch_of(lines, 0), results), Error);
}

}  // namespace
}  // namespace streamml::demo
