// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

// Races are cheap (~1 ms each); 200 is enough for the statistical checks.
constexpr int kRaces = 200;

std::vector<Race> simulate(uint64_t seed, int count) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = seed});
  std::vector<Race> races;
  for (int i = 0; i < count; ++i) races.push_back(sim.next());
  return races;
}

const Telemetry& leader_of(const Tick& tick) {
  return *std::find_if(tick.begin(), tick.end(), [](const Telemetry& t) { return t.position == 1; });
}

TEST(RaceSimulator, FieldSizesDistancesAndHorseNumbersAreInRange) {
  std::set<int32_t> sizes;
  for (const Race& race : simulate(1, kRaces)) {
    const auto n = static_cast<int32_t>(race.horses.size());
    EXPECT_GE(n, 6);
    EXPECT_LE(n, 14);
    sizes.insert(n);
    EXPECT_GE(race.distance_m, 1000.0);
    EXPECT_LE(race.distance_m, 2400.0);
    EXPECT_DOUBLE_EQ(std::fmod(race.distance_m, 100.0), 0.0);
    for (size_t i = 0; i < race.horses.size(); ++i) EXPECT_EQ(race.horses[i].number, static_cast<int32_t>(i) + 1);
  }
  EXPECT_EQ(sizes.size(), 9u) << "every field size 6..14 occurs over 200 races";
}

TEST(RaceSimulator, EveryTickHasConsistentPositionsAndDistances) {
  for (const Race& race : simulate(2, 50)) {
    ASSERT_FALSE(race.ticks.empty());
    const auto n = race.horses.size();
    for (size_t k = 0; k < race.ticks.size(); ++k) {
      const Tick& tick = race.ticks[k];
      ASSERT_EQ(tick.size(), n);
      std::vector<const Telemetry*> by_position(n + 1, nullptr);
      for (size_t i = 0; i < n; ++i) {
        const Telemetry& t = tick[i];
        EXPECT_EQ(t.race_id, race.race_id);
        EXPECT_EQ(t.horse, static_cast<int32_t>(i) + 1);
        EXPECT_DOUBLE_EQ(t.time_s, static_cast<double>(k) * race.tick_s);
        EXPECT_EQ(t.contestants, static_cast<int32_t>(n));
        EXPECT_NEAR(t.race_distance_m(), race.distance_m, 1e-6);
        EXPECT_GE(t.speed_mps, 0.0);
        EXPECT_EQ(t.form, race.horses[i].form);
        ASSERT_GE(t.position, 1);
        ASSERT_LE(t.position, static_cast<int32_t>(n));
        EXPECT_EQ(by_position[static_cast<size_t>(t.position)], nullptr) << "two horses share a position";
        by_position[static_cast<size_t>(t.position)] = &t;
      }
      // Finished horses come first; running horses are ordered by distance covered.
      for (size_t p = 1; p < n; ++p) {
        const Telemetry& a = *by_position[p];
        const Telemetry& b = *by_position[p + 1];
        EXPECT_FALSE(!a.finished && b.finished) << "race " << race.race_id << " tick " << k;
        EXPECT_GE(a.distance_m, b.distance_m) << "race " << race.race_id << " tick " << k << " position " << p;
      }
      if (k > 0) {
        for (size_t i = 0; i < n; ++i) {
          EXPECT_GE(tick[i].distance_m, race.ticks[k - 1][i].distance_m) << "horses never run backwards";
          if (race.ticks[k - 1][i].finished) {
            EXPECT_TRUE(tick[i].finished);
            EXPECT_EQ(tick[i].position, race.ticks[k - 1][i].position) << "a finished horse keeps its position";
          }
        }
      }
    }
  }
}

TEST(RaceSimulator, EveryRaceFinishesAndResultFollowsCrossingOrder) {
  for (const Race& race : simulate(3, 100)) {
    const Tick& last = race.ticks.back();
    for (const Telemetry& t : last) {
      EXPECT_TRUE(t.finished);
      EXPECT_EQ(t.remaining_m, 0.0);
      EXPECT_EQ(t.distance_m, race.distance_m);
    }
    // The tick before the last still has someone running (the race ends as soon as all finished).
    ASSERT_GE(race.ticks.size(), 2u);
    const Tick& before = race.ticks[race.ticks.size() - 2];
    EXPECT_TRUE(std::any_of(before.begin(), before.end(), [](const Telemetry& t) { return !t.finished; }));

    const RaceResult& result = race.result;
    EXPECT_EQ(result.race_id, race.race_id);
    ASSERT_EQ(result.finish_order.size(), race.horses.size());
    ASSERT_EQ(result.finish_time_s.size(), race.horses.size());
    EXPECT_TRUE(std::is_sorted(result.finish_time_s.begin(), result.finish_time_s.end()));
    std::set<int32_t> distinct(result.finish_order.begin(), result.finish_order.end());
    EXPECT_EQ(distinct.size(), race.horses.size());

    // Tick at which each horse is first reported finished: non-decreasing along the result.
    std::map<int32_t, size_t> finish_tick;
    for (size_t k = 0; k < race.ticks.size(); ++k) {
      for (const Telemetry& t : race.ticks[k]) {
        if (t.finished) finish_tick.try_emplace(t.horse, k);
      }
    }
    for (size_t p = 0; p < result.finish_order.size(); ++p) {
      const int32_t horse = result.finish_order[p];
      const size_t k = finish_tick.at(horse);
      // The interpolated crossing time lies within the tick that reported the finish.
      EXPECT_GT(result.finish_time_s[p], static_cast<double>(k - 1) * race.tick_s - 1e-3);
      EXPECT_LE(result.finish_time_s[p], static_cast<double>(k) * race.tick_s + 1e-3);
      EXPECT_EQ(last[static_cast<size_t>(horse - 1)].position, static_cast<int32_t>(p) + 1);
      EXPECT_EQ(result.position_of(horse), static_cast<int32_t>(p) + 1);
      if (p > 0) {
        EXPECT_GE(k, finish_tick.at(result.finish_order[p - 1]));
      }
    }
    EXPECT_EQ(result.winner(), result.finish_order.front());
  }
}

TEST(RaceSimulator, SameSeedRepeatsAndOtherSeedDiffers) {
  const std::vector<Race> a = simulate(11, 5);
  const std::vector<Race> b = simulate(11, 5);
  const std::vector<Race> c = simulate(12, 5);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].ticks, b[i].ticks);
    EXPECT_EQ(a[i].result, b[i].result);
  }
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += (a[i].result != c[i].result || a[i].ticks != c[i].ticks) ? 1 : 0;
  EXPECT_EQ(differing, a.size());
  // generate(id) is independent of the order races are drawn in.
  RaceSimulator sim(RaceSimulatorOptions{.seed = 11});
  EXPECT_EQ(sim.generate(3).ticks, a[2].ticks);
}

TEST(RaceSimulator, EarlyLeaderOftenLosesAndAbilityWinsMoreOften) {
  int leader_at_quarter_won = 0;
  int best_ability_won = 0;
  int worst_ability_won = 0;
  int lead_changes_after_half = 0;
  for (const Race& race : simulate(5, kRaces)) {
    const int32_t winner = race.result.winner();
    int32_t leader_at_half = 0;
    for (const Tick& tick : race.ticks) {
      const Telemetry& leader = leader_of(tick);
      if (leader.distance_m >= 0.25 * race.distance_m) {
        leader_at_quarter_won += leader.horse == winner ? 1 : 0;
        break;
      }
    }
    for (const Tick& tick : race.ticks) {
      const Telemetry& leader = leader_of(tick);
      if (leader.distance_m >= 0.5 * race.distance_m) {
        leader_at_half = leader.horse;
        break;
      }
    }
    lead_changes_after_half += leader_at_half != winner ? 1 : 0;
    auto by_ability = [](const Horse& a, const Horse& b) { return a.ability < b.ability; };
    best_ability_won += std::max_element(race.horses.begin(), race.horses.end(), by_ability)->number == winner;
    worst_ability_won += std::min_element(race.horses.begin(), race.horses.end(), by_ability)->number == winner;
  }
  EXPECT_LT(leader_at_quarter_won, kRaces * 6 / 10) << "the early leader must not usually win";
  EXPECT_GT(leader_at_quarter_won, kRaces / 14) << "but leading early is not worthless";
  EXPECT_GT(lead_changes_after_half, kRaces / 4);
  EXPECT_GT(best_ability_won, kRaces / 4) << "the best horse wins far more than 1/n";
  EXPECT_GT(best_ability_won, 4 * worst_ability_won);
}

TEST(RaceSimulator, FormIsInformativeAboutAbility) {
  // Horses with a better (lower) mean past finish have a higher mean ability.
  double good_sum = 0, bad_sum = 0;
  int good = 0, bad = 0, debutants = 0, total = 0;
  for (const Race& race : simulate(6, 100)) {
    for (const Horse& h : race.horses) {
      ++total;
      const size_t runs = h.form.runs();
      if (runs == 0) {
        ++debutants;
        EXPECT_EQ(h.form.win_rate, 0.0f);
        continue;
      }
      double mean = 0;
      for (size_t k = 0; k < runs; ++k) mean += h.form.last_finishes[k];
      mean /= static_cast<double>(runs);
      EXPECT_GE(h.form.win_rate, 0.0f);
      EXPECT_LE(h.form.win_rate, 1.0f);
      EXPECT_GE(h.form.weight_kg, 50.0f);
      EXPECT_LE(h.form.weight_kg, 62.0f);
      if (mean <= 3.5) {
        good_sum += h.ability;
        ++good;
      } else if (mean >= 7.0) {
        bad_sum += h.ability;
        ++bad;
      }
    }
  }
  ASSERT_GT(good, 20);
  ASSERT_GT(bad, 20);
  EXPECT_GT(good_sum / good, bad_sum / bad + 0.5);
  EXPECT_GT(debutants, 0);
  EXPECT_LT(debutants, total / 4);
}

TEST(RaceSimulator, RejectsInvalidOptionsNamingTheOption) {
  auto expect_error = [](RaceSimulatorOptions o, const std::string& option) {
    try {
      RaceSimulator sim(o);
      FAIL() << "expected ConfigError for " << option;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
    }
  };
  expect_error({.tick_s = 0.0}, "tick_s");
  expect_error({.min_horses = 1}, "min_horses");
  expect_error({.min_horses = 8, .max_horses = 7}, "max_horses");
  expect_error({.min_distance_m = 2000, .max_distance_m = 1000}, "max_distance_m");
  expect_error({.distance_step_m = 0}, "distance_step_m");
}

TEST(RaceSimulator, HonoursFieldAndTickOptions) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 9, .tick_s = 0.25, .min_horses = 3, .max_horses = 3,
                                         .min_distance_m = 800, .max_distance_m = 800, .first_race_id = 100});
  const Race race = sim.next();
  EXPECT_EQ(race.race_id, 100);
  EXPECT_EQ(race.horses.size(), 3u);
  EXPECT_EQ(race.distance_m, 800.0);
  EXPECT_DOUBLE_EQ(race.ticks[1].front().time_s, 0.25);
  EXPECT_EQ(race.num_records(), race.ticks.size() * 3);
  EXPECT_EQ(sim.next().race_id, 101);
}

}  // namespace
}  // namespace streamml::demo
