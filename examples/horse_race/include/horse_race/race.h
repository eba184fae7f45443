// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The horse-race demo's data model and its simulator. A race has 6-14 horses
// over 1000-2400 m. Every horse has a hidden ability and pace profile (what
// decides the race) and a public form record (what a bettor can see: past
// finishes, win rate, rest days, weight carried), which is informative but
// noisy. Every tick (0.5 s of race time by default) each horse emits one
// Telemetry record; the result is the order in which the horses crossed the
// line, interpolated within a tick, so the early leader often does not win.
//
// Randomness comes only from std::mt19937_64 and distributions implemented
// here (the standard library's distributions differ between implementations),
// so a seed gives the same races on every platform.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamml::demo {

// Number of past finishes in a form record.
inline constexpr size_t kFormRuns = 5;

// The public form of a horse: what is known before the race starts.
struct FormRecord {
  std::array<int32_t, kFormRuns> last_finishes{};  // finishing positions, most recent first; 0 = no run
  float win_rate = 0.0f;                           // career wins / starts, 0 for a debutant
  int32_t rest_days = 0;                           // days since the horse last raced
  float weight_kg = 0.0f;                          // weight carried in this race

  // Number of non-zero entries of last_finishes.
  size_t runs() const;
  friend bool operator==(const FormRecord&, const FormRecord&) = default;
};

// One horse at one moment of a live race.
struct Telemetry {
  int64_t race_id = 0;       // race the record belongs to
  int32_t horse = 0;         // saddle-cloth number, 1..contestants
  double time_s = 0.0;       // race time since the start
  double distance_m = 0.0;   // distance covered
  double remaining_m = 0.0;  // distance still to run (0 once finished)
  int32_t position = 0;      // 1 = leading; a finished horse keeps its finishing position
  double speed_mps = 0.0;    // current speed (0 once finished and pulled up)
  int32_t contestants = 0;   // number of horses in the race
  bool finished = false;     // crossed the line
  FormRecord form;           // the horse's public form (same in every record of a race)

  // distance_m + remaining_m.
  double race_distance_m() const { return distance_m + remaining_m; }
  friend bool operator==(const Telemetry&, const Telemetry&) = default;
};

// All horses of one race at one tick, one record per horse, in horse-number order.
using Tick = std::vector<Telemetry>;

// How a horse distributes its effort (hidden from the telemetry).
enum class PaceProfile {
  kFrontRunner,  // fast early, fades late
  kEvenPace,     // about the same speed throughout
  kCloser,       // held up early, surges over the last third
};

const char* pace_profile_name(PaceProfile pace);

// One runner, with the hidden truth the simulator used.
struct Horse {
  int32_t number = 0;  // saddle-cloth number, 1..contestants
  double ability = 0.0;       // hidden class, standard normal across the population
  double day_form = 0.0;      // hidden, how well the horse is on the day
  PaceProfile pace = PaceProfile::kEvenPace;  // hidden running style
  FormRecord form;            // public form
};

// The official result of a race.
struct RaceResult {
  int64_t race_id = 0;                // race the result belongs to
  double race_distance_m = 0.0;       // race distance
  std::vector<int32_t> finish_order;  // horse numbers, winner first
  std::vector<double> finish_time_s;  // finish time of finish_order[i], non-decreasing

  // The winning horse's number, or 0 when the result is empty.
  int32_t winner() const { return finish_order.empty() ? 0 : finish_order.front(); }
  // 1-based finishing position of `horse`, or 0 when it is not in the result.
  int32_t position_of(int32_t horse) const;
  friend bool operator==(const RaceResult&, const RaceResult&) = default;
};

// A simulated race: hidden truth, every tick of telemetry, and the result.
struct Race {
  int64_t race_id = 0;        // race identifier
  double distance_m = 0.0;    // race distance
  double tick_s = 0.0;        // race time between ticks
  std::vector<Horse> horses;  // horses[i].number == i + 1
  std::vector<Tick> ticks;    // ticks[k] holds every horse at time k * tick_s (tick 0 is the start)
  RaceResult result;          // finish order

  // Total number of telemetry records (ticks x horses).
  size_t num_records() const;
};

struct RaceSimulatorOptions {
  uint64_t seed = 42;             // seed; the same seed gives the same races
  double tick_s = 0.5;            // race time between telemetry ticks, > 0
  int32_t min_horses = 6;         // smallest field, >= 2
  int32_t max_horses = 14;        // largest field, >= min_horses
  double min_distance_m = 1000;   // shortest race
  double max_distance_m = 2400;   // longest race, >= min_distance_m
  double distance_step_m = 100;   // race distances are min_distance_m + k * step
  int64_t first_race_id = 1;      // id of the first race next() returns
};

// Generates races. generate(id) depends only on the options' seed and the id,
// so any race can be regenerated on its own. Not thread-safe for next();
// generate() is const and may be called from several threads.
class RaceSimulator {
 public:
  // Throws ConfigError naming the option when the options are invalid.
  explicit RaceSimulator(RaceSimulatorOptions options = {});

  // The race with the given id.
  Race generate(int64_t race_id) const;
  // The next race: first_race_id, first_race_id + 1, ...
  Race next();

  const RaceSimulatorOptions& options() const { return options_; }

 private:
  RaceSimulatorOptions options_;
  int64_t next_race_id_;
};

}  // namespace streamml::demo
