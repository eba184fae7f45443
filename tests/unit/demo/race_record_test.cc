// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_record.h"

#include <gtest/gtest.h>

#include <string>

#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

Telemetry sample() {
  Telemetry t;
  t.race_id = 17;
  t.horse = 3;
  t.time_s = 42.5;
  t.distance_m = 731.125;
  t.remaining_m = 868.875;
  t.position = 2;
  t.speed_mps = 16.904;
  t.contestants = 9;
  t.finished = false;
  t.form.last_finishes = {1, 4, 2, 0, 0};
  t.form.win_rate = 0.25f;
  t.form.rest_days = 21;
  t.form.weight_kg = 57.5f;
  return t;
}

void expect_input_error(const std::string& line, const std::string& needle) {
  try {
    parse_race_record(line, "live:0:42");
    FAIL() << "expected InputError for: " << line;
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("live:0:42"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << "missing '" << needle << "' in: " << what;
  }
}

TEST(RaceRecord, TelemetryLineHasDocumentedColumnOrder) {
  EXPECT_EQ(encode_telemetry(sample()), "17,3,42.5,731.125,868.875,2,16.904,9,0,1,4,2,0,0,0.25,21,57.5");
  EXPECT_EQ(telemetry_columns().size(), 17u);
  EXPECT_EQ(telemetry_columns()[6], "speed_mps");
}

TEST(RaceRecord, TelemetryRoundTripsExactly) {
  const Telemetry t = sample();
  EXPECT_EQ(parse_telemetry(encode_telemetry(t)), t);
  EXPECT_EQ(parse_telemetry(encode_telemetry(t) + "\r\n"), t) << "line endings are ignored";
}

TEST(RaceRecord, SimulatedRaceHistoryRoundTrips) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 4});
  const Race race = sim.next();
  const std::vector<std::string> lines = encode_race_history(race);
  ASSERT_EQ(lines.size(), race.num_records() + 1);
  size_t i = 0;
  for (const Tick& tick : race.ticks) {
    for (const Telemetry& t : tick) {
      const RaceRecord r = parse_race_record(lines[i++]);
      ASSERT_EQ(r.kind, RaceRecordKind::kTelemetry);
      EXPECT_EQ(r.telemetry, t);
    }
  }
  const RaceRecord last = parse_race_record(lines.back());
  ASSERT_EQ(last.kind, RaceRecordKind::kResult);
  EXPECT_EQ(last.result, race.result);
  EXPECT_EQ(race_record_key(race.race_id), std::to_string(race.race_id));
}

TEST(RaceRecord, ResultLineFormat) {
  RaceResult r;
  r.race_id = 5;
  r.race_distance_m = 1600;
  r.finish_order = {2, 3, 1};
  r.finish_time_s = {95.512, 95.61, 96.002};
  EXPECT_EQ(encode_result(r), "result,5,1600,3,2|3|1,95.512|95.61|96.002");
  EXPECT_EQ(parse_result(encode_result(r)), r);
}

TEST(RaceRecord, TelemetryErrorsNameTheField) {
  const std::string good = encode_telemetry(sample());
  expect_input_error("17,3,42.5", "3 columns, expected 17");
  expect_input_error("17,3,abc,731.125,868.875,2,16.904,9,0,1,4,2,0,0,0.25,21,57.5", "'time_s'");
  expect_input_error("17,3,42.5,731.125,868.875,2,nan,9,0,1,4,2,0,0,0.25,21,57.5", "'speed_mps'");
  expect_input_error("17,3,42.5,731.125,868.875,12,16.904,9,0,1,4,2,0,0,0.25,21,57.5", "'position'");
  expect_input_error("17,10,42.5,731.125,868.875,2,16.904,9,0,1,4,2,0,0,0.25,21,57.5", "'horse'");
  expect_input_error("17,3,42.5,731.125,868.875,2,16.904,9,2,1,4,2,0,0,0.25,21,57.5", "'finished'");
  expect_input_error("17,3,42.5,731.125,868.875,2,16.904,9,0,1,4,2,0,0,1.5,21,57.5", "'win_rate'");
  expect_input_error("17,3,42.5,731.125,868.875,2,16.904,9,0,1,x,2,0,0,0.25,21,57.5", "'form_2'");
  expect_input_error("17,3,42.5,731.125,868.875,2,16.904,9,1,1,4,2,0,0,0.25,21,57.5", "'remaining_m'");
  expect_input_error("17,3,42.5,731.125,868.875,2,16.904,9,0,1,4,2,0,0,0.25,21,", "'weight_kg'");
  expect_input_error("-1,3,42.5,731.125,868.875,2,16.904,9,0,1,4,2,0,0,0.25,21,57.5", "'race_id'");
  expect_input_error("17,3,42.5 ,731.125,868.875,2,16.904,9,0,1,4,2,0,0,0.25,21,57.5", "'time_s'");
  EXPECT_NO_THROW(parse_race_record(good, "live:0:42"));
}

TEST(RaceRecord, ResultErrorsNameTheField) {
  expect_input_error("result,5,1600,3,2|3,95.5|95.6", "'finish_order'");
  expect_input_error("result,5,1600,3,2|3|3,95.5|95.6|96", "listed twice");
  expect_input_error("result,5,1600,3,2|3|4,95.5|95.6|96", "'finish_order'");
  expect_input_error("result,5,1600,3,2|3|1,95.5|95.6", "'finish_times_s'");
  expect_input_error("result,5,1600,3,2|3|1,95.5|94|96", "non-decreasing");
  expect_input_error("result,5,0,3,2|3|1,95.5|95.6|96", "'race_distance_m'");
  expect_input_error("result,5,1600", "3 columns, expected 6");
}

}  // namespace
}  // namespace streamml::demo
