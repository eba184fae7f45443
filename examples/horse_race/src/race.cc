// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "demo_random.h"
#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

using internal::Random;

// Speed model. A horse's speed is
//   base(distance) * class_factor * pace(progress) * (1 + noise) * start_ramp(t)
// where noise is an AR(1) process, so surges and fades last a few seconds.
constexpr double kBaseSpeedShortMps = 17.2;   // base speed over 1000 m
constexpr double kBaseSpeedDropMps = 0.5;     // lost per 1000 m of extra distance
constexpr double kAbilityEffect = 0.011;      // speed fraction per unit of ability
constexpr double kWeightEffect = 0.0012;      // speed fraction lost per kg above kReferenceWeightKg
constexpr double kReferenceWeightKg = 56.0;
constexpr double kNoiseMemory = 0.82;         // AR(1) coefficient per 0.5 s
constexpr double kNoiseStep = 0.011;          // AR(1) innovation per 0.5 s
constexpr double kStartRampS = 3.0;           // time to reach cruising speed
constexpr double kMinSpeedMps = 5.0;          // a running horse never goes slower
constexpr double kOptimalRestDays = 28.0;

double pace_multiplier(PaceProfile pace, double progress) {
  const double p = std::clamp(progress, 0.0, 1.0);
  switch (pace) {
    case PaceProfile::kFrontRunner:
      return 1.045 - 0.095 * p;
    case PaceProfile::kEvenPace:
      return 1.003 - 0.012 * p;
    case PaceProfile::kCloser:
      if (p < 0.55) return 0.975;
      if (p < 0.8) return 0.975 + (1.065 - 0.975) * (p - 0.55) / 0.25;
      return 1.065 - 0.04 * (p - 0.8) / 0.2;
  }
  return 1.0;
}

double rest_penalty(int32_t rest_days) {
  // Fresh-but-not-rusty horses run best: short turnarounds and long layoffs cost a little.
  const double off = std::max(0.0, std::abs(rest_days - kOptimalRestDays) - 14.0);
  return 0.004 * std::min(1.0, off / 60.0);
}

double round_to(double x, double step) { return std::round(x / step) * step; }
double floor_mm(double x) { return std::floor(x * 1000.0) / 1000.0; }
double round_mm(double x) { return std::round(x * 1000.0) / 1000.0; }

FormRecord draw_form(Random& rng, double ability) {
  FormRecord form;
  // Handicapping: better horses carry more weight.
  form.weight_kg = static_cast<float>(
      std::clamp(round_to(kReferenceWeightKg + 1.8 * ability + rng.normal(0.0, 1.5), 0.5), 50.0, 62.0));
  const int64_t starts = rng.bernoulli(0.1) ? 0 : rng.uniform_int(2, 30);
  if (starts > 0) {
    const double p_win = 1.0 / (1.0 + std::exp(-(1.1 * ability - 2.0)));
    int64_t wins = 0;
    for (int64_t i = 0; i < starts; ++i) wins += rng.bernoulli(p_win) ? 1 : 0;
    form.win_rate = static_cast<float>(round_mm(static_cast<double>(wins) / static_cast<double>(starts)));
  }
  const int64_t runs = std::min<int64_t>(starts, kFormRuns);
  for (int64_t k = 0; k < runs; ++k) {
    const int64_t field = rng.uniform_int(6, 14);
    const double expected = static_cast<double>(field) * (0.5 - 0.2 * ability) + 0.5;
    const double finish = std::round(expected + rng.normal(0.0, 2.4));
    form.last_finishes[k] = static_cast<int32_t>(std::clamp(finish, 1.0, static_cast<double>(field)));
  }
  if (starts == 0) {
    form.rest_days = 0;
  } else if (rng.bernoulli(0.15)) {
    form.rest_days = static_cast<int32_t>(rng.uniform_int(60, 180));  // back from a layoff
  } else {
    form.rest_days = static_cast<int32_t>(std::clamp(std::round(rng.normal(kOptimalRestDays, 12.0)), 7.0, 59.0));
  }
  return form;
}

struct RunnerState {
  double distance = 0.0;
  double speed = 0.0;
  double noise = 0.0;
  double class_factor = 1.0;
  bool finished = false;
  double finish_time = 0.0;
};

}  // namespace

size_t FormRecord::runs() const {
  return static_cast<size_t>(std::count_if(last_finishes.begin(), last_finishes.end(), [](int32_t f) { return f > 0; }));
}

const char* pace_profile_name(PaceProfile pace) {
  switch (pace) {
    case PaceProfile::kFrontRunner:
      return "front-runner";
    case PaceProfile::kEvenPace:
      return "even";
    case PaceProfile::kCloser:
      return "closer";
  }
  return "unknown";
}

int32_t RaceResult::position_of(int32_t horse) const {
  const auto it = std::find(finish_order.begin(), finish_order.end(), horse);
  return it == finish_order.end() ? 0 : static_cast<int32_t>(it - finish_order.begin()) + 1;
}

size_t Race::num_records() const {
  return std::accumulate(ticks.begin(), ticks.end(), size_t{0}, [](size_t n, const Tick& t) { return n + t.size(); });
}

RaceSimulator::RaceSimulator(RaceSimulatorOptions options)
    : options_(options), next_race_id_(options.first_race_id) {
  if (!(options_.tick_s > 0.0 && options_.tick_s <= 10.0)) {
    throw ConfigError(fmt::format("race simulator: tick_s must be in (0, 10], got {}", options_.tick_s));
  }
  if (options_.min_horses < 2 || options_.min_horses > 99) {
    throw ConfigError(fmt::format("race simulator: min_horses must be in [2, 99], got {}", options_.min_horses));
  }
  if (options_.max_horses < options_.min_horses || options_.max_horses > 99) {
    throw ConfigError(fmt::format("race simulator: max_horses must be in [min_horses={}, 99], got {}",
                                  options_.min_horses, options_.max_horses));
  }
  if (!(options_.min_distance_m >= 100.0 && options_.min_distance_m <= 10000.0)) {
    throw ConfigError(
        fmt::format("race simulator: min_distance_m must be in [100, 10000], got {}", options_.min_distance_m));
  }
  if (!(options_.max_distance_m >= options_.min_distance_m && options_.max_distance_m <= 10000.0)) {
    throw ConfigError(fmt::format("race simulator: max_distance_m must be in [min_distance_m={}, 10000], got {}",
                                  options_.min_distance_m, options_.max_distance_m));
  }
  if (!(options_.distance_step_m > 0.0)) {
    throw ConfigError(
        fmt::format("race simulator: distance_step_m must be positive, got {}", options_.distance_step_m));
  }
}

Race RaceSimulator::next() { return generate(next_race_id_++); }

Race RaceSimulator::generate(int64_t race_id) const {
  Random rng(internal::mix64(options_.seed ^ internal::mix64(static_cast<uint64_t>(race_id))));
  Race race;
  race.race_id = race_id;
  race.tick_s = options_.tick_s;
  const auto steps = static_cast<int64_t>((options_.max_distance_m - options_.min_distance_m) / options_.distance_step_m);
  race.distance_m = options_.min_distance_m + options_.distance_step_m * static_cast<double>(rng.uniform_int(0, steps));
  const auto n = static_cast<int32_t>(rng.uniform_int(options_.min_horses, options_.max_horses));

  std::vector<RunnerState> state(static_cast<size_t>(n));
  const double base_speed =
      kBaseSpeedShortMps - kBaseSpeedDropMps * std::max(0.0, race.distance_m - 1000.0) / 1000.0;
  for (int32_t i = 0; i < n; ++i) {
    Horse h;
    h.number = i + 1;
    h.ability = rng.normal();
    h.day_form = rng.normal(0.0, 0.45);
    const double u = rng.uniform();
    h.pace = u < 0.3 ? PaceProfile::kFrontRunner : (u < 0.7 ? PaceProfile::kEvenPace : PaceProfile::kCloser);
    h.form = draw_form(rng, h.ability);
    RunnerState& s = state[static_cast<size_t>(i)];
    s.class_factor = 1.0 + kAbilityEffect * (h.ability + h.day_form) -
                     kWeightEffect * (static_cast<double>(h.form.weight_kg) - kReferenceWeightKg) -
                     rest_penalty(h.form.rest_days);
    s.noise = rng.normal(0.0, kNoiseStep);
    race.horses.push_back(h);
  }

  const double dt = options_.tick_s;
  const double noise_memory = std::pow(kNoiseMemory, dt / 0.5);
  const double noise_step = kNoiseStep * std::sqrt(dt / 0.5);
  // Upper bound on ticks: every runner moves at least kMinSpeedMps once started.
  const auto max_ticks = static_cast<int64_t>((race.distance_m / kMinSpeedMps + 2.0 * kStartRampS) / dt) + 2;

  std::vector<size_t> order(static_cast<size_t>(n));
  auto emit_tick = [&](int64_t k) {
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const RunnerState& x = state[a];
      const RunnerState& y = state[b];
      if (x.finished != y.finished) return x.finished;
      if (x.finished && x.finish_time != y.finish_time) return x.finish_time < y.finish_time;
      if (!x.finished && floor_mm(x.distance) != floor_mm(y.distance)) return floor_mm(x.distance) > floor_mm(y.distance);
      return a < b;
    });
    Tick tick(static_cast<size_t>(n));
    for (size_t rank = 0; rank < order.size(); ++rank) {
      const size_t i = order[rank];
      const RunnerState& s = state[i];
      Telemetry& t = tick[i];
      t.race_id = race_id;
      t.horse = static_cast<int32_t>(i) + 1;
      t.time_s = round_mm(static_cast<double>(k) * dt);
      t.distance_m = s.finished ? race.distance_m : std::min(floor_mm(s.distance), race.distance_m);
      t.remaining_m = s.finished ? 0.0 : round_mm(race.distance_m - t.distance_m);
      t.position = static_cast<int32_t>(rank) + 1;
      t.speed_mps = round_mm(s.speed);
      t.contestants = n;
      t.finished = s.finished;
      t.form = race.horses[i].form;
    }
    race.ticks.push_back(std::move(tick));
  };

  emit_tick(0);
  int32_t running = n;
  for (int64_t k = 1; running > 0; ++k) {
    if (k > max_ticks) {
      throw std::logic_error(fmt::format("race simulator: race {} did not finish in {} ticks", race_id, max_ticks));
    }
    const double t_prev = static_cast<double>(k - 1) * dt;
    const double t_now = static_cast<double>(k) * dt;
    for (size_t i = 0; i < state.size(); ++i) {
      RunnerState& s = state[i];
      if (s.finished) {
        s.speed = 0.0;  // pulled up after the line
        continue;
      }
      s.noise = noise_memory * s.noise + rng.normal(0.0, noise_step);
      const double ramp = std::min(1.0, 0.25 + 0.75 * t_now / kStartRampS);
      const double cruise = base_speed * s.class_factor *
                            pace_multiplier(race.horses[i].pace, s.distance / race.distance_m) * (1.0 + s.noise);
      const double new_speed = std::max(cruise * ramp, std::min(kMinSpeedMps, cruise));
      const double new_distance = s.distance + 0.5 * (s.speed + new_speed) * dt;
      if (new_distance >= race.distance_m) {
        // Interpolate the crossing time within the tick.
        const double frac = (race.distance_m - s.distance) / (new_distance - s.distance);
        s.finish_time = t_prev + frac * dt;
        s.finished = true;
        s.distance = race.distance_m;
        --running;
      } else {
        s.distance = new_distance;
      }
      s.speed = new_speed;
    }
    emit_tick(k);
  }

  race.result.race_id = race_id;
  race.result.race_distance_m = race.distance_m;
  // The last tick's positions are the finishing positions (finish time, then number).
  const Tick& last = race.ticks.back();
  race.result.finish_order.assign(static_cast<size_t>(n), 0);
  for (const Telemetry& t : last) race.result.finish_order[static_cast<size_t>(t.position - 1)] = t.horse;
  for (int32_t horse : race.result.finish_order) {
    race.result.finish_time_s.push_back(round_mm(state[static_cast<size_t>(horse - 1)].finish_time));
  }
  return race;
}

}  // namespace streamml::demo
