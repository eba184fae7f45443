// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_ranking.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <system_error>

#include "record_fields.h"
#include "streamml/common/error.h"
#include "streamml/data/dead_letter.h"

namespace streamml::demo {
namespace {

using fields::fail;
using fields::parse_double;
using fields::parse_int;
using fields::split;

constexpr std::string_view kTag = "ranking";
constexpr size_t kColumns = 11;
constexpr int32_t kMaxContestants = 99;
constexpr const char* kNames[kColumns] = {"ranking",         "race_id",     "time_s", "horse",      "complete",
                                          "race_distance_m", "leader_progress", "contestants", "update",
                                          "service_us",      "entries"};



}  // namespace

double RankingRecord::probability_sum() const {
  double sum = 0.0;
  for (const auto& e : entries) sum += e.probability;
  return sum;
}

LeaderboardView RankingRecord::view() const {
  LeaderboardView v;
  v.race_id = race_id;
  v.time_s = time_s;
  v.race_distance_m = race_distance_m;
  v.leader_progress = leader_progress;
  v.contestants = contestants;
  v.entries = entries;
  v.updates = update;
  return v;
}

std::string encode_ranking(const RankingRecord& r) {
  std::string out = fmt::format("{},{},{},{},{},{},{:.6g},{},{},{:.4g},", kTag, r.race_id, r.time_s, r.horse,
                                r.tick_complete ? 1 : 0, r.race_distance_m, r.leader_progress, r.contestants,
                                r.update, r.service_us);
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const LeaderboardEntry& e = r.entries[i];
    if (i > 0) out += '|';
    fmt::format_to(std::back_inserter(out), "{}:{}:{:.6g}:{:.7g}:{}", e.horse, e.position, e.probability,
                   e.distance_m, e.finished ? 1 : 0);
  }
  return out;
}

RankingRecord parse_ranking(std::string_view line, std::string_view where) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  const auto cols = split(line, ',');
  if (cols.size() != kColumns) {
    throw InputError(fmt::format("{}: ranking line has {} columns, expected {}", where, cols.size(), kColumns));
  }
  if (cols[0] != kTag) fail(where, kNames[0], cols[0], "a ranking line starts with 'ranking'");
  RankingRecord r;
  r.race_id = parse_int<int64_t>(cols[1], where, kNames[1], 0, std::numeric_limits<int64_t>::max());
  r.time_s = parse_double(cols[2], where, kNames[2], 0.0, 1e6);
  r.horse = parse_int<int32_t>(cols[3], where, kNames[3], 1, kMaxContestants);
  r.tick_complete = parse_int<int32_t>(cols[4], where, kNames[4], 0, 1) == 1;
  r.race_distance_m = parse_double(cols[5], where, kNames[5], 0.0, 1e6);
  r.leader_progress = parse_double(cols[6], where, kNames[6], 0.0, 1.0);
  r.contestants = parse_int<int32_t>(cols[7], where, kNames[7], 1, kMaxContestants);
  r.update = parse_int<uint64_t>(cols[8], where, kNames[8], 1, std::numeric_limits<uint64_t>::max());
  r.service_us = parse_double(cols[9], where, kNames[9], 0.0, 1e12);
  for (const std::string_view entry : split(cols[10], '|')) {
    const auto parts = split(entry, ':');
    if (parts.size() != 5) fail(where, kNames[10], entry, "expected horse:position:probability:distance_m:finished");
    LeaderboardEntry e;
    e.horse = parse_int<int32_t>(parts[0], where, kNames[10], 1, r.contestants);
    e.position = parse_int<int32_t>(parts[1], where, kNames[10], 1, r.contestants);
    e.probability = parse_double(parts[2], where, kNames[10], 0.0, 1.0);
    e.distance_m = parse_double(parts[3], where, kNames[10], 0.0, 1e6);
    e.finished = parse_int<int32_t>(parts[4], where, kNames[10], 0, 1) == 1;
    r.entries.push_back(e);
  }
  if (r.entries.size() > static_cast<size_t>(r.contestants)) {
    fail(where, kNames[10], cols[10], fmt::format("lists {} horses, contestants is {}", r.entries.size(), r.contestants));
  }
  return r;
}

int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int64_t> produced_at_us(const kafka::Headers& headers) {
  for (const auto& h : headers) {
    if (h.name != kProducedAtHeader || !h.value) continue;
    int64_t value = 0;
    const std::string& text = *h.value;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<int64_t> tick_produced_us(const kafka::Headers& headers) {
  if (auto us = produced_at_us(headers)) return us;
  for (const auto& h : headers) {
    if (h.name != data::kHeaderSourceTimestamp || !h.value) continue;
    int64_t ms = 0;
    const std::string& text = *h.value;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || ms < 0) return std::nullopt;
    return ms * 1000;
  }
  return std::nullopt;
}

bool RankingTraceBuilder::add(const RankingRecord& ranking) {
  if (!ranking.tick_complete) return true;
  auto [it, inserted] = traces_.try_emplace(ranking.race_id);
  RaceTrace& trace = it->second;
  if (inserted) {
    trace.race_id = ranking.race_id;
    trace.race_distance_m = ranking.race_distance_m;
    trace.horses.resize(static_cast<size_t>(ranking.contestants));
    for (size_t i = 0; i < trace.horses.size(); ++i) trace.horses[i] = static_cast<int32_t>(i + 1);
  }
  if (!trace.ticks.empty() && ranking.time_s <= trace.ticks.back().time_s) return false;
  TickPrediction tick;
  tick.time_s = ranking.time_s;
  tick.leader_progress = ranking.leader_progress;
  tick.latency_us = ranking.service_us;
  tick.probabilities.assign(trace.horses.size(), 0.0);
  tick.positions.assign(trace.horses.size(), 0);
  for (const LeaderboardEntry& e : ranking.entries) {
    const auto col = static_cast<size_t>(e.horse - 1);
    if (col >= trace.horses.size()) continue;
    tick.probabilities[col] = e.probability;
    tick.positions[col] = e.position;
  }
  trace.ticks.push_back(std::move(tick));
  return true;
}

std::optional<RaceTrace> RankingTraceBuilder::finish(int64_t race_id, int32_t winner) {
  const auto it = traces_.find(race_id);
  if (it == traces_.end()) return std::nullopt;
  RaceTrace trace = std::move(it->second);
  trace.winner = winner;
  traces_.erase(it);
  return trace;
}

}  // namespace streamml::demo
