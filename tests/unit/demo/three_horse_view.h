// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// A small race as a board sees it, for the board and web-page tests.
#pragma once

#include <array>
#include <cstdint>

#include "horse_race/leaderboard.h"

namespace streamml::demo::testing {

// Race `id` of 1000 m with three horses, #h at position h and 5 m behind
// the one before it, the leader at `progress` of the distance (time 60 s x
// progress), win probabilities `p` (of #1, #2, #3).
inline LeaderboardView three_horse_view(int64_t id, double progress, std::array<double, 3> p,
                                        bool finished = false) {
  LeaderboardView v;
  v.race_id = id;
  v.race_distance_m = 1000;
  v.leader_progress = progress;
  v.time_s = 60.0 * progress;
  v.contestants = 3;
  for (int32_t h = 1; h <= 3; ++h) {
    v.entries.push_back(LeaderboardEntry{h, h, p[h - 1], 1000 * progress - 5.0 * h, finished});
  }
  return v;
}

}  // namespace streamml::demo::testing
