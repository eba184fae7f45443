// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_history.h"

#include <algorithm>

#include "streamml/common/logging.h"

namespace streamml::demo {

std::optional<RecordedRace> RaceHistoryAssembler::add(const RaceRecord& record) {
  if (record.kind == RaceRecordKind::kTelemetry) {
    const Telemetry& t = record.telemetry;
    auto [it, inserted] = pending_.try_emplace(t.race_id);
    Pending& race = it->second;
    if (inserted) {
      race.first_seen = arrivals_++;
      if (pending_.size() > std::max<size_t>(1, options_.max_pending_races)) {
        const auto oldest = std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
          return a.second.first_seen < b.second.first_seen;
        });
        log_warn("race history: dropping race {} (no result after {} newer races opened)", oldest->first,
                 options_.max_pending_races);
        ++dropped_races_;
        pending_.erase(oldest);
      }
    }
    race.contestants = std::max(race.contestants, t.contestants);
    auto [slot, fresh] = race.ticks[t.time_s].insert_or_assign(t.horse, t);
    if (!fresh) ++duplicate_records_;
    return std::nullopt;
  }

  const RaceResult& result = record.result;
  const auto it = pending_.find(result.race_id);
  if (it == pending_.end()) {
    log_warn("race history: result of race {} arrived without telemetry; ignored", result.race_id);
    ++orphan_results_;
    return std::nullopt;
  }
  RecordedRace race;
  race.race_id = result.race_id;
  race.result = result;
  const auto contestants = static_cast<size_t>(std::max<int32_t>(
      it->second.contestants, static_cast<int32_t>(result.finish_order.size())));
  for (auto& [time, horses] : it->second.ticks) {
    Tick tick;
    tick.reserve(horses.size());
    for (auto& [number, t] : horses) tick.push_back(std::move(t));
    race.missing_records += contestants - std::min(contestants, tick.size());
    race.ticks.push_back(std::move(tick));
  }
  pending_.erase(it);
  if (race.missing_records > 0) {
    log_warn("race history: race {} is missing {} telemetry records", race.race_id, race.missing_records);
  }
  return race;
}

}  // namespace streamml::demo
