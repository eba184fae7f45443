// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Text pieces both terminal boards draw with (leaderboard.cc, the single
// race; race_board.cc, the demo's board of races): ANSI styles, a
// probability bar and the board order of a race's runners.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "horse_race/leaderboard.h"

namespace streamml::demo::board_text {

inline constexpr const char* kBold = "\x1b[1m";
inline constexpr const char* kGreen = "\x1b[32m";
inline constexpr const char* kReset = "\x1b[0m";

// `width` characters: `fill` for `fraction` of them (clamped to [0, 1];
// NaN is 0), ending in `head` when it is not '\0' and the bar is partial,
// then '.'.
std::string bar(double fraction, size_t width, char fill, char head);

// The runners' indices in board order: finished runners by finishing
// position, then the others by win probability (rank_by_probability).
std::vector<size_t> board_order(const LeaderboardView& view);

}  // namespace streamml::demo::board_text
