// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_history.h"

#include <gtest/gtest.h>

#include "horse_race/live_race.h"

namespace streamml::demo {
namespace {

std::vector<Race> races(int n) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 77});
  std::vector<Race> out;
  for (int i = 0; i < n; ++i) out.push_back(sim.next());
  return out;
}

TEST(RaceHistory, RebuildsInterleavedRacesFromEncodedLines) {
  const std::vector<Race> rs = races(2);
  const auto a = encode_race_history(rs[0]);
  const auto b = encode_race_history(rs[1]);
  // Interleave the two races' lines, each in its own order (as two partitions would).
  std::vector<std::string> lines;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size()) lines.push_back(a[i]);
    if (i < b.size()) lines.push_back(b[i]);
  }
  RaceHistoryAssembler assembler;
  std::vector<RecordedRace> done;
  for (const auto& line : lines) {
    if (auto race = assembler.add(parse_race_record(line))) done.push_back(std::move(*race));
  }
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(assembler.pending_races(), 0u);
  for (const RecordedRace& rec : done) {
    const Race& original = rec.race_id == rs[0].race_id ? rs[0] : rs[1];
    EXPECT_EQ(rec.ticks, original.ticks);
    EXPECT_EQ(rec.result, original.result);
    EXPECT_EQ(rec.missing_records, 0u);
  }
}

TEST(RaceHistory, CountsMissingDuplicateAndOrphanRecords) {
  const Race race = races(1).front();
  RaceHistoryAssembler assembler;
  const auto lines = encode_race_history(race);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (i == 5) continue;  // lose one record
    assembler.add(parse_race_record(lines[i]));
  }
  assembler.add(parse_race_record(lines[0]));  // duplicate
  const auto rec = assembler.add(parse_race_record(lines.back()));
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->missing_records, 1u);
  EXPECT_EQ(assembler.duplicate_records(), 1u);
  EXPECT_FALSE(assembler.add(parse_race_record(lines.back())).has_value());
  EXPECT_EQ(assembler.orphan_results(), 1u);
}

TEST(RaceHistory, DropsTheOldestRaceBeyondTheLimit) {
  RaceHistoryAssembler assembler(RaceHistoryOptions{.max_pending_races = 2});
  const std::vector<Race> rs = races(3);
  for (const Race& r : rs) assembler.add(RaceRecord{RaceRecordKind::kTelemetry, r.ticks[0][0], {}});
  EXPECT_EQ(assembler.pending_races(), 2u);
  EXPECT_EQ(assembler.dropped_races(), 1u);
  EXPECT_FALSE(assembler.add(RaceRecord{RaceRecordKind::kResult, {}, rs[0].result}).has_value());
  EXPECT_TRUE(assembler.add(RaceRecord{RaceRecordKind::kResult, {}, rs[2].result}).has_value());
}

TEST(LiveRace, EveryRecordUpdatesTheRankingAndTicksMatchTheReplay) {
  const Race race = races(1).front();
  LiveRaceTracker tracker(leader_predictor());
  size_t updates = 0;
  for (const Tick& tick : race.ticks) {
    for (const Telemetry& t : tick) {
      const LiveUpdate u = tracker.update(t);
      ASSERT_TRUE(u.accepted);
      ++updates;
      EXPECT_EQ(u.view.updates, updates);
      EXPECT_GT(u.view.latency_us, 0.0);
      EXPECT_EQ(u.view.race_id, race.race_id);
    }
  }
  EXPECT_FALSE(tracker.update(race.ticks[3][0]).accepted) << "a stale record changes nothing";
  EXPECT_EQ(tracker.active_races(), 1u);
  const auto trace = tracker.finish(race.result);
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(tracker.active_races(), 0u);
  const RaceTrace replay = trace_race(race.ticks, race.result, leader_predictor());
  ASSERT_EQ(trace->ticks.size(), replay.ticks.size());
  EXPECT_EQ(trace->winner, replay.winner);
  for (size_t k = 0; k < replay.ticks.size(); ++k) {
    EXPECT_EQ(trace->ticks[k].probabilities, replay.ticks[k].probabilities) << k;
    EXPECT_EQ(trace->ticks[k].time_s, replay.ticks[k].time_s);
  }
  EXPECT_FALSE(tracker.finish(race.result).has_value());
}

TEST(LiveRace, ForgetsTheLeastRecentlyUpdatedRace) {
  const std::vector<Race> rs = races(3);
  LiveRaceTracker tracker(uniform_predictor(), LiveRaceOptions{.keep_trace = false, .max_races = 2});
  tracker.update(rs[0].ticks[0][0]);
  tracker.update(rs[1].ticks[0][0]);
  tracker.update(rs[0].ticks[0][1]);
  tracker.update(rs[2].ticks[0][0]);
  EXPECT_EQ(tracker.active_races(), 2u);
  EXPECT_FALSE(tracker.finish(rs[1].result).has_value());
  const auto kept = tracker.finish(rs[0].result);
  ASSERT_TRUE(kept.has_value());
  EXPECT_TRUE(kept->ticks.empty()) << "keep_trace = false";
}

}  // namespace
}  // namespace streamml::demo
