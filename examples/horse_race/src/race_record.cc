// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_record.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "record_fields.h"
#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

using fields::fail;
using fields::parse_double;
using fields::parse_int;
using fields::split;

constexpr size_t kTelemetryColumns = 17;
constexpr size_t kResultColumns = 6;
constexpr std::string_view kResultTag = "result";
constexpr int32_t kMaxContestants = 99;


std::string_view trim_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

std::vector<std::string_view> split_columns(std::string_view line, std::string_view where, size_t expected,
                                            const char* kind) {
  auto cols = split(trim_line_end(line), ',');
  if (cols.size() != expected) {
    throw InputError(fmt::format("{}: {} line has {} columns, expected {}", where, kind, cols.size(), expected));
  }
  return cols;
}

}  // namespace

const std::vector<std::string>& telemetry_columns() {
  static const std::vector<std::string> kColumns = {
      "race_id", "horse",  "time_s", "distance_m", "remaining_m", "position", "speed_mps", "contestants", "finished",
      "form_1",  "form_2", "form_3", "form_4",     "form_5",      "win_rate", "rest_days", "weight_kg"};
  return kColumns;
}

const std::vector<std::string>& result_columns() {
  static const std::vector<std::string> kColumns = {"result",       "race_id",       "race_distance_m",
                                                    "contestants",  "finish_order",  "finish_times_s"};
  return kColumns;
}

std::string encode_telemetry(const Telemetry& r) {
  const auto& f = r.form;
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", r.race_id, r.horse, r.time_s, r.distance_m,
                     r.remaining_m, r.position, r.speed_mps, r.contestants, r.finished ? 1 : 0, f.last_finishes[0],
                     f.last_finishes[1], f.last_finishes[2], f.last_finishes[3], f.last_finishes[4], f.win_rate,
                     f.rest_days, f.weight_kg);
}

std::string encode_result(const RaceResult& result) {
  return fmt::format("{},{},{},{},{},{}", kResultTag, result.race_id, result.race_distance_m,
                     result.finish_order.size(), fmt::join(result.finish_order, "|"),
                     fmt::join(result.finish_time_s, "|"));
}

Telemetry parse_telemetry(std::string_view line, std::string_view where) {
  const auto cols = split_columns(line, where, kTelemetryColumns, "telemetry");
  const auto& names = telemetry_columns();
  constexpr double kMaxMetres = 1e6;
  constexpr double kMaxSeconds = 1e6;
  Telemetry t;
  t.race_id = parse_int<int64_t>(cols[0], where, names[0], 0, std::numeric_limits<int64_t>::max());
  t.horse = parse_int<int32_t>(cols[1], where, names[1], 1, kMaxContestants);
  t.time_s = parse_double(cols[2], where, names[2], 0.0, kMaxSeconds);
  t.distance_m = parse_double(cols[3], where, names[3], 0.0, kMaxMetres);
  t.remaining_m = parse_double(cols[4], where, names[4], 0.0, kMaxMetres);
  t.position = parse_int<int32_t>(cols[5], where, names[5], 1, kMaxContestants);
  t.speed_mps = parse_double(cols[6], where, names[6], 0.0, 100.0);
  t.contestants = parse_int<int32_t>(cols[7], where, names[7], 1, kMaxContestants);
  t.finished = parse_int<int32_t>(cols[8], where, names[8], 0, 1) == 1;
  for (size_t k = 0; k < kFormRuns; ++k) {
    t.form.last_finishes[k] = parse_int<int32_t>(cols[9 + k], where, names[9 + k], 0, kMaxContestants);
  }
  t.form.win_rate = static_cast<float>(parse_double(cols[14], where, names[14], 0.0, 1.0));
  t.form.rest_days = parse_int<int32_t>(cols[15], where, names[15], 0, 10000);
  t.form.weight_kg = static_cast<float>(parse_double(cols[16], where, names[16], 0.0, 200.0));
  // Cross-field checks.
  if (t.horse > t.contestants) {
    fail(where, names[1], cols[1], fmt::format("horse number exceeds contestants ({})", t.contestants));
  }
  if (t.position > t.contestants) {
    fail(where, names[5], cols[5], fmt::format("position exceeds contestants ({})", t.contestants));
  }
  if (t.finished && t.remaining_m != 0.0) fail(where, names[4], cols[4], "a finished horse has 0 m remaining");
  if (t.distance_m + t.remaining_m <= 0.0) fail(where, names[4], cols[4], "race distance (distance + remaining) is 0");
  return t;
}

RaceResult parse_result(std::string_view line, std::string_view where) {
  const auto cols = split_columns(line, where, kResultColumns, "result");
  const auto& names = result_columns();
  if (cols[0] != kResultTag) fail(where, names[0], cols[0], "a result line starts with 'result'");
  RaceResult r;
  r.race_id = parse_int<int64_t>(cols[1], where, names[1], 0, std::numeric_limits<int64_t>::max());
  r.race_distance_m = parse_double(cols[2], where, names[2], 1e-3, 1e6);
  const auto n = parse_int<int32_t>(cols[3], where, names[3], 1, kMaxContestants);
  const auto order = split(cols[4], '|');
  const auto times = split(cols[5], '|');
  if (order.size() != static_cast<size_t>(n)) {
    fail(where, names[4], cols[4], fmt::format("lists {} horses, contestants is {}", order.size(), n));
  }
  if (times.size() != order.size()) {
    fail(where, names[5], cols[5], fmt::format("lists {} times for {} horses", times.size(), order.size()));
  }
  std::vector<bool> seen(static_cast<size_t>(n) + 1, false);
  for (const auto& text : order) {
    const auto horse = parse_int<int32_t>(text, where, names[4], 1, n);
    if (seen[static_cast<size_t>(horse)]) fail(where, names[4], cols[4], fmt::format("horse {} listed twice", horse));
    seen[static_cast<size_t>(horse)] = true;
    r.finish_order.push_back(horse);
  }
  for (const auto& text : times) {
    const double t = parse_double(text, where, names[5], 0.0, 1e6);
    if (!r.finish_time_s.empty() && t < r.finish_time_s.back()) {
      fail(where, names[5], cols[5], "finish times must be non-decreasing");
    }
    r.finish_time_s.push_back(t);
  }
  return r;
}

RaceRecord parse_race_record(std::string_view line, std::string_view where) {
  RaceRecord record;
  if (line.starts_with(kResultTag) && line.size() > kResultTag.size() && line[kResultTag.size()] == ',') {
    record.kind = RaceRecordKind::kResult;
    record.result = parse_result(line, where);
  } else {
    record.kind = RaceRecordKind::kTelemetry;
    record.telemetry = parse_telemetry(line, where);
  }
  return record;
}

std::string race_record_key(int64_t race_id) { return std::to_string(race_id); }

std::vector<std::string> encode_race_history(const Race& race) {
  std::vector<std::string> lines;
  lines.reserve(race.num_records() + 1);
  for (const Tick& tick : race.ticks) {
    for (const Telemetry& t : tick) lines.push_back(encode_telemetry(t));
  }
  lines.push_back(encode_result(race.result));
  return lines;
}

}  // namespace streamml::demo
