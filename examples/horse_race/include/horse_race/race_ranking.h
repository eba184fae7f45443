// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The ranking record the ranking service writes to the rankings topic, one
// per live telemetry record: the race moment after that record and every
// horse ranked by win probability (best first). One CSV line:
//
//   ranking,race_id,time_s,horse,complete,race_distance_m,leader_progress,
//           contestants,update,service_us,entries
//
// where `horse` is the horse whose record triggered the update, `complete` is
// 1 when that record completed a tick (every horse reported at time_s),
// `service_us` is the time the service spent on the record's micro-batch
// divided by its size, and `entries` is '|'-separated
// `horse:position:probability:distance_m:finished`, best first, e.g.
//
//   ranking,17,42.5,3,1,1600,0.46,3,255,11.2,2:1:0.61:736.5:0|3:2:0.3:731.1:0|1:3:0.09:720:0
//
// Latency header: the live producer stamps every telemetry record with
// kProducedAtHeader (wall-clock microseconds since the epoch, decimal); the
// service copies it to the ranking, so the leaderboard measures "tick
// produced -> ranking delivered" across processes.
//
// Parsing rejects a malformed line with InputError naming `where`, the field
// and the text. All functions are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "horse_race/leaderboard.h"
#include "horse_race/race_report.h"
#include "streamml/kafka/types.h"

namespace streamml::demo {

// Header carrying the produce time of a live telemetry record (wall clock, us since the epoch).
inline constexpr std::string_view kProducedAtHeader = "streamml.produced_us";

struct RankingRecord {
  int64_t race_id = 0;           // race
  double time_s = 0.0;           // race time of the record that triggered the update
  int32_t horse = 0;             // horse of that record
  bool tick_complete = false;    // the record completed the tick at time_s
  double race_distance_m = 0.0;  // race distance
  double leader_progress = 0.0;  // leader distance / race distance, 0..1
  int32_t contestants = 0;       // horses in the race
  uint64_t update = 0;           // updates of this race so far (1-based)
  double service_us = 0.0;       // service time per record of its micro-batch
  std::vector<LeaderboardEntry> entries;  // best first

  // Probabilities in the order of `entries` sum to this (1 up to rounding).
  double probability_sum() const;
  // The leaderboard view of this ranking (latency left to the caller).
  LeaderboardView view() const;
};

std::string encode_ranking(const RankingRecord& ranking);
// Throws InputError naming `where` and the field at fault.
RankingRecord parse_ranking(std::string_view line, std::string_view where = "ranking record");

// Current wall-clock time in microseconds since the epoch.
int64_t wall_clock_us();
// The value of kProducedAtHeader in `headers`, or nullopt when absent or not a number.
std::optional<int64_t> produced_at_us(const kafka::Headers& headers);
// When the tick behind a ranking was produced (wall clock, us since the
// epoch): kProducedAtHeader, else the serving loop's streamml.source.timestamp
// (the live record's Kafka timestamp, ms: ticks produced by other tools);
// nullopt when neither is there.
std::optional<int64_t> tick_produced_us(const kafka::Headers& headers);

// Collects the complete-tick rankings of live races into RaceTraces (for the
// report and the chart), as the leaderboard consumer sees them. Not thread-safe.
class RankingTraceBuilder {
 public:
  // Adds one ranking; rankings that did not complete a tick are ignored.
  // Returns false for a complete tick older than the race's last one (stale).
  bool add(const RankingRecord& ranking);
  // Sets the winner of a race and returns its trace (nullopt when unseen).
  std::optional<RaceTrace> finish(int64_t race_id, int32_t winner);
  size_t races() const { return traces_.size(); }

 private:
  std::map<int64_t, RaceTrace> traces_;  // open races
};

}  // namespace streamml::demo
