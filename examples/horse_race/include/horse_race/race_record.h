// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Text encoding of race records: one CSV line per telemetry record, one per
// race result. The live topic holds telemetry lines; the history topic holds
// telemetry lines followed by one result line per race. Suggested Kafka key:
// the race id (race_record_key), so one race stays in one partition, in order.
//
// Telemetry line, 17 numeric columns (telemetry_columns()):
//   race_id,horse,time_s,distance_m,remaining_m,position,speed_mps,contestants,
//   finished,form_1,form_2,form_3,form_4,form_5,win_rate,rest_days,weight_kg
// (form_1 is the most recent past finish, 0 = no run; finished is 0 or 1).
// Result line, tagged so it cannot be mistaken for telemetry:
//   result,race_id,race_distance_m,contestants,finish_order,finish_times_s
// where finish_order and finish_times_s are '|'-separated lists, winner first,
// e.g. "result,17,1600,3,2|3|1,95.512|95.61|96.002".
//
// Numbers are written in their shortest round-trip form, so parse(encode(x))
// == x. Parsing rejects a malformed line with InputError naming the record
// (the `where` argument, e.g. "topic:partition:offset"), the field and the
// offending text. All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "horse_race/race.h"

namespace streamml::demo {

// Column names of a telemetry line, in order.
const std::vector<std::string>& telemetry_columns();
// Column names of a result line, in order (the first is the "result" tag).
const std::vector<std::string>& result_columns();

std::string encode_telemetry(const Telemetry& record);
std::string encode_result(const RaceResult& result);

// Throw InputError naming `where` and the field at fault.
Telemetry parse_telemetry(std::string_view line, std::string_view where = "telemetry record");
RaceResult parse_result(std::string_view line, std::string_view where = "result record");

enum class RaceRecordKind { kTelemetry, kResult };

// Either kind of history-topic record.
struct RaceRecord {
  RaceRecordKind kind = RaceRecordKind::kTelemetry;  // which member is set
  Telemetry telemetry;                               // when kind == kTelemetry
  RaceResult result;                                 // when kind == kResult
};

// Parses a telemetry or result line (results start with "result,").
RaceRecord parse_race_record(std::string_view line, std::string_view where = "race record");

// The Kafka key for records of `race_id` (its decimal text).
std::string race_record_key(int64_t race_id);

// Every telemetry line of a race (tick by tick, horse-number order), then its result line.
std::vector<std::string> encode_race_history(const Race& race);

}  // namespace streamml::demo
