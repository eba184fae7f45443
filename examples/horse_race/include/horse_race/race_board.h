// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The demo's terminal board for many races at once: one line of overall
// progress (races finished of total, rankings/s, latency p50/p99), a fixed
// number of slots showing the running races closest to finishing, and a
// "results" strip of the last finished races with the official winner
// marked. A race keeps its slot until it ends; the slot then goes to the
// running race closest to finishing, so nothing on screen jumps between
// races. Every frame has the same height (empty slots and results are
// padded), so a terminal can redraw it in place.
//
// RaceBoard is the state and the layout only (no I/O); run_leaderboard()
// (leaderboard.h) feeds it rankings and prints its frames.
//
// Thread-safety: not thread-safe; one owner thread. The free functions are
// pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "horse_race/leaderboard.h"

namespace streamml::demo {

// The overall progress of a run.
struct DemoProgress {
  size_t races_finished = 0;    // races whose last ranking was read
  size_t races_total = 0;       // live races of the run (0: unknown)
  size_t rankings = 0;          // rankings read so far (not on the line: the demo's summary has it)
  double rankings_per_s = 0.0;  // recent ranking rate
  double p50_us = 0.0;          // recent latency median (tick produced -> ranking read), 0: none yet
  double p99_us = 0.0;          // recent latency 99th percentile
};

// One line, no newline, at most 80 columns for up to 9,999 races, e.g.
// "races 3/20 finished | 1840 rankings/s | latency p50 3.2 ms p99 12.4 ms".
std::string render_progress_line(const DemoProgress& progress);

// A finished race in the results strip.
struct FinishedRace {
  int64_t race_id = 0;
  double time_s = 0.0;         // race time of its last ranking
  std::vector<int32_t> board;  // horses as the final ranking placed them, best first
  int32_t winner = 0;          // official winner (0: unknown)
  int32_t halfway_favourite = 0;             // the model's favourite when the leader passed 50 % (0: not seen)
  double halfway_winner_probability = -1.0;  // the winner's probability then (< 0: unknown)
};

// One line, no newline: "race 503  1. #4 WINNER  2. #7  3. #1",
// the official winner marked wherever the board placed it (top `top` horses,
// plus the winner when it is not among them), then what the model said at
// half way when known: "  (half way: #7 favourite, winner 2.3%)".
std::string render_finished_race(const FinishedRace& race, size_t top = 3);

// A compact board of one race: a header line with its progress bar, then
// the `style.max_rows` most likely horses; every line ends in '\n'.
std::string render_race_slot(const LeaderboardView& view, const LeaderboardStyle& style);

struct RaceBoardOptions {
  size_t slots = 3;    // races shown at once (>= 1)
  size_t results = 3;  // finished races in the results strip
  LeaderboardStyle style{.progress_width = 20, .bar_width = 20, .max_rows = 4, .ansi_colors = false};
};

class RaceBoard {
 public:
  explicit RaceBoard(RaceBoardOptions options = {});

  // The latest ranking of a running race (the first one with the leader at
  // 50 % or more is kept for the results strip). Updates of a race that
  // already finished are ignored (e.g. a redelivered ranking).
  void update(const LeaderboardView& view);
  // The race ended with `final_view` (its last ranking) and the official
  // `winner` (0: unknown): it leaves its slot, which goes to the running
  // race closest to finishing, and joins the front of the results strip.
  void finish(const LeaderboardView& final_view, int32_t winner);

  // The race in each slot, 0 for an empty one.
  const std::vector<int64_t>& slots() const { return slots_; }
  // The results strip, newest first (at most options.results).
  const std::deque<FinishedRace>& results() const { return results_; }
  size_t running() const { return running_.size(); }

  // The whole frame: progress line, blank line, the slots (each
  // render_race_slot() padded to slot_lines() lines, then a blank line) and
  // the results strip (a title and options.results lines). Always
  // frame_lines() lines, each ending in '\n'.
  std::string render(const DemoProgress& progress) const;
  size_t slot_lines() const { return options_.style.max_rows + 1; }
  size_t frame_lines() const { return 2 + options_.slots * (slot_lines() + 1) + 1 + options_.results; }

 private:
  void fill_slots();

  RaceBoardOptions options_;
  std::map<int64_t, LeaderboardView> running_;  // latest view of every running race
  std::map<int64_t, LeaderboardView> halfway_;  // running races: the first view with the leader at >= 50 %
  std::vector<int64_t> slots_;                  // race per slot, 0 = empty
  std::deque<FinishedRace> results_;            // newest first
  std::set<int64_t> finished_;                  // races that ended
};

}  // namespace streamml::demo
