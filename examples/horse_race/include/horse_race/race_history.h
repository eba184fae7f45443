// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Rebuilds races from the history topic: telemetry records grouped into ticks
// (one per race time) and closed by the race's result record. The output
// feeds training_rows() and trace_race(). Records of several races may
// interleave (e.g. read from several partitions). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "horse_race/race.h"
#include "horse_race/race_record.h"

namespace streamml::demo {

// A race as read back from the history topic.
struct RecordedRace {
  int64_t race_id = 0;       // race
  std::vector<Tick> ticks;   // in time order, each in horse-number order
  RaceResult result;         // the result record
  size_t missing_records = 0;  // ticks x contestants minus the records received (0 = complete)
};

struct RaceHistoryOptions {
  size_t max_pending_races = 1024;  // races awaiting their result; beyond it the oldest is dropped (logged, counted)
};

class RaceHistoryAssembler {
 public:
  explicit RaceHistoryAssembler(RaceHistoryOptions options = {}) : options_(options) {}

  // Adds one record. Returns the completed race when `record` is the result of
  // a race whose telemetry was seen. A duplicate telemetry record (same race,
  // horse and time) replaces the earlier one and is counted.
  std::optional<RecordedRace> add(const RaceRecord& record);

  size_t pending_races() const { return pending_.size(); }
  // Results that arrived without any telemetry for their race (logged).
  size_t orphan_results() const { return orphan_results_; }
  // Incomplete races dropped because more than max_pending_races were open (logged).
  size_t dropped_races() const { return dropped_races_; }
  // Telemetry records that replaced an earlier copy.
  size_t duplicate_records() const { return duplicate_records_; }

 private:
  struct Pending {
    uint64_t first_seen = 0;  // arrival order, to drop the oldest
    std::map<double, std::map<int32_t, Telemetry>> ticks;  // time -> horse -> record
    int32_t contestants = 0;
  };
  RaceHistoryOptions options_;
  std::map<int64_t, Pending> pending_;
  uint64_t arrivals_ = 0;
  size_t orphan_results_ = 0;
  size_t dropped_races_ = 0;
  size_t duplicate_records_ = 0;
};

}  // namespace streamml::demo
