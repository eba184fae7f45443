// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_board.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "unit/demo/three_horse_view.h"

namespace streamml::demo {
namespace {

// A view of race `id` whose leader is at `progress` of 1000 m; horse 1 leads and is the favourite.
LeaderboardView race(int64_t id, double progress, bool finished = false) {
  return testing::three_horse_view(id, progress, finished ? std::array{1.0, 0.0, 0.0} : std::array{0.6, 0.3, 0.1},
                                   finished);
}

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(RaceBoard, RacesKeepTheirSlotUntilTheyEnd) {
  RaceBoard board(RaceBoardOptions{.slots = 2, .results = 3});
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{0, 0}));
  board.update(race(1, 0.5));
  board.update(race(2, 0.3));
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{1, 2}));
  // Race 3 is closer to finishing than both, but the board is full: nothing moves.
  board.update(race(3, 0.7));
  board.update(race(4, 0.6));
  board.update(race(3, 0.9));
  board.update(race(2, 0.35));
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(board.running(), 4u);
  // Race 1 ends: its slot goes to the waiting race closest to finishing; race 2 stays where it was.
  board.finish(race(1, 1.0, /*finished=*/true), /*winner=*/1);
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{3, 2}));
  board.finish(race(2, 1.0, true), 1);
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{3, 4}));
  board.finish(race(3, 1.0, true), 1);
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(board.running(), 1u);
}

TEST(RaceBoard, LateUpdatesOfAFinishedRaceAreIgnored) {
  RaceBoard board(RaceBoardOptions{.slots = 1});
  board.update(race(7, 0.9));
  board.finish(race(7, 1.0, true), 1);
  board.update(race(7, 0.95));  // e.g. a redelivered ranking
  EXPECT_EQ(board.slots(), (std::vector<int64_t>{0}));
  EXPECT_EQ(board.running(), 0u);
  board.finish(race(7, 1.0, true), 1);
  EXPECT_EQ(board.results().size(), 1u);
}

TEST(RaceBoard, ResultsStripKeepsTheLastFinishedRacesNewestFirst) {
  RaceBoard board(RaceBoardOptions{.slots = 1, .results = 2});
  for (int64_t id = 1; id <= 3; ++id) {
    board.update(race(id, 0.5));
    board.finish(race(id, 1.0, true), /*winner=*/1);
  }
  ASSERT_EQ(board.results().size(), 2u);
  EXPECT_EQ(board.results()[0].race_id, 3);
  EXPECT_EQ(board.results()[1].race_id, 2);
  EXPECT_EQ(board.results()[0].board, (std::vector<int32_t>{1, 2, 3}));  // the final ranking, best first
  EXPECT_EQ(board.results()[0].winner, 1);
}

TEST(RaceBoard, FinishedRaceMarksTheOfficialWinnerWhereverTheBoardPutIt) {
  FinishedRace r{.race_id = 503, .time_s = 98.5, .board = {4, 7, 1, 2, 9}, .winner = 4};
  EXPECT_EQ(render_finished_race(r), "race 503  1. #4 WINNER  2. #7  3. #1");
  r.winner = 9;  // below the top 3: still shown, in its place
  EXPECT_EQ(render_finished_race(r), "race 503  1. #4  2. #7  3. #1  5. #9 WINNER");
  r.winner = 12;
  EXPECT_EQ(render_finished_race(r), "race 503  1. #4  2. #7  3. #1  winner #12 (not on the board)");
}

TEST(RaceBoard, ResultsSayWhatTheModelThoughtAtHalfWay) {
  RaceBoard board(RaceBoardOptions{.slots = 1});
  board.update(race(4, 0.3));
  LeaderboardView half = race(4, 0.55);
  std::swap(half.entries[0].probability, half.entries[1].probability);  // horse 2 the favourite, horse 1 at 30 %
  board.update(half);
  board.update(race(4, 0.8));  // later views do not replace the half-way one
  board.finish(race(4, 1.0, true), /*winner=*/1);
  ASSERT_EQ(board.results().size(), 1u);
  const FinishedRace& r = board.results().front();
  EXPECT_EQ(r.halfway_favourite, 2);
  EXPECT_DOUBLE_EQ(r.halfway_winner_probability, 0.3);
  EXPECT_EQ(render_finished_race(r), "race 4  1. #1 WINNER  2. #2  3. #3  (half way: #2 favourite, winner 30.0%)");
  // A race first seen past half way still says what the model thought then.
  board.update(race(5, 0.9));
  board.finish(race(5, 1.0, true), 0);
  EXPECT_EQ(board.results().front().halfway_favourite, 1);
  EXPECT_LT(board.results().front().halfway_winner_probability, 0.0);  // no official winner to look up
}

TEST(RaceBoard, ProgressLineShowsRacesRateAndLatency) {
  DemoProgress p{.races_finished = 3,
                 .races_total = 20,
                 .rankings = 4812,
                 .rankings_per_s = 1840.4,
                 .p50_us = 3210,
                 .p99_us = 12400};
  EXPECT_EQ(render_progress_line(p), "races 3/20 finished | 1840 rankings/s | latency p50 3.2 ms p99 12.4 ms");
  EXPECT_EQ(render_progress_line(DemoProgress{}), "races 0 finished | 0 rankings/s | latency p50 - p99 -");
  // It fits an 80-column terminal (a wrapped line would break the redraw in place).
  const DemoProgress wide{
      .races_finished = 9999, .races_total = 9999, .rankings_per_s = 999999, .p50_us = 999.9e3, .p99_us = 999.9e3};
  EXPECT_LE(render_progress_line(wide).size(), 80u) << render_progress_line(wide);
  const DemoProgress slow{
      .races_finished = 1, .races_total = 2, .rankings_per_s = 10, .p50_us = 1.5e6, .p99_us = 12.25e6};
  EXPECT_EQ(render_progress_line(slow), "races 1/2 finished | 10 rankings/s | latency p50 1.50 s p99 12.25 s");
}

TEST(RaceBoard, EveryFrameHasTheSameHeight) {
  RaceBoard board(RaceBoardOptions{.slots = 3, .results = 3});
  const DemoProgress progress{.races_finished = 1, .races_total = 5};
  const std::string empty = board.render(progress);
  EXPECT_EQ(lines(empty), board.frame_lines()) << empty;
  EXPECT_EQ(empty.find("races 1/5 finished"), 0u) << "the progress line comes first:\n" << empty;
  board.update(race(1, 0.4));
  board.update(race(2, 0.2));
  board.finish(race(3, 1.0, true), 2);
  const std::string full = board.render(progress);
  EXPECT_EQ(lines(full), board.frame_lines()) << full;
  EXPECT_NE(full.find("Race 1  1000 m  3 runners"), std::string::npos) << full;
  EXPECT_NE(full.find("Race 2  1000 m  3 runners"), std::string::npos) << full;
  EXPECT_NE(full.find("race 3  1. #1  2. #2 WINNER  3. #3"), std::string::npos) << full;
  EXPECT_EQ(full.find('\x1b'), std::string::npos) << "no escapes unless asked";
  // Race 1 is on top and stays there while race 2 moves ahead of it.
  board.update(race(2, 0.8));
  const std::string later = board.render(progress);
  EXPECT_LT(later.find("Race 1 "), later.find("Race 2 ")) << later;
}

TEST(RaceBoard, SlotShowsTheMostLikelyHorsesFirst) {
  LeaderboardView v = race(5, 0.25);
  std::swap(v.entries[0].probability, v.entries[2].probability);  // horse 3 is now the favourite
  const std::string slot = render_race_slot(v, LeaderboardStyle{.progress_width = 4, .bar_width = 10, .max_rows = 2});
  EXPECT_EQ(slot,
            "Race 5  1000 m  3 runners  t=15.0 s  [>...]  25%\n"
            "   1    #3  pos  3   60.0%  ######....\n"
            "   2    #2  pos  2   30.0%  ###.......\n");
}

}  // namespace
}  // namespace streamml::demo
