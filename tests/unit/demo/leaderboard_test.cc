// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/leaderboard.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace streamml::demo {
namespace {

Tick field() {
  Tick f(3);
  const double distances[] = {500, 520, 480};
  const int32_t positions[] = {2, 1, 3};
  for (int i = 0; i < 3; ++i) {
    f[i].race_id = 9;
    f[i].horse = i + 1;
    f[i].time_s = 31.5;
    f[i].distance_m = distances[i];
    f[i].remaining_m = 1600 - distances[i];
    f[i].position = positions[i];
    f[i].contestants = 3;
  }
  return f;
}

LeaderboardView view() {
  const std::vector<double> p = {0.6, 0.3, 0.1};
  return make_leaderboard_view(field(), p, /*latency_us=*/85.4, /*updates=*/12);
}

TEST(Leaderboard, ViewSummarisesTheField) {
  const LeaderboardView v = view();
  EXPECT_EQ(v.race_id, 9);
  EXPECT_EQ(v.contestants, 3);
  EXPECT_DOUBLE_EQ(v.race_distance_m, 1600);
  EXPECT_DOUBLE_EQ(v.leader_progress, 520.0 / 1600.0);
  EXPECT_DOUBLE_EQ(v.time_s, 31.5);
  ASSERT_EQ(v.entries.size(), 3u);
  EXPECT_EQ(v.entries[0].probability, 0.6);
}

TEST(Leaderboard, PlainRenderingOrdersByProbability) {
  LeaderboardStyle style;
  style.progress_width = 20;
  style.bar_width = 10;
  const std::string board = render_leaderboard(view(), style);
  const std::string expected =
      "Race 9  1600 m  3 runners  t=31.5 s  update 12  latency 85 us\n"
      "[======>.............]  32.5%  leader at 520.0 m\n"
      "rank  horse  pos     win  probability\n"
      "   1     #1    2   60.0%  ######....\n"
      "   2     #2    1   30.0%  ###.......\n"
      "   3     #3    3   10.0%  #.........\n";
  EXPECT_EQ(board, expected);
  EXPECT_EQ(board.find('\x1b'), std::string::npos) << "no escapes in plain mode";
}

TEST(Leaderboard, MarksWinnerLimitsRowsAndColours) {
  LeaderboardView v = view();
  v.entries[1].finished = true;
  v.winner = 2;
  LeaderboardStyle style;
  style.max_rows = 2;
  const std::string board = render_leaderboard(v, style);
  EXPECT_NE(board.find("#2    1   30.0%"), std::string::npos) << board;
  EXPECT_NE(board.find("WINNER"), std::string::npos);
  EXPECT_NE(board.find("... 1 more"), std::string::npos);
  EXPECT_EQ(board.find("#3"), std::string::npos);
  style.ansi_colors = true;
  EXPECT_NE(render_leaderboard(v, style).find("\x1b[1m"), std::string::npos);
}

TEST(Leaderboard, OneLineSummary) {
  EXPECT_EQ(render_leaderboard_line(view(), 2),
            "race 9 t=31.5s 32% latency=85 us | 1. #1 60.0% (pos 2) | 2. #2 30.0% (pos 1)");
  LeaderboardView v = view();
  v.latency_us = 2500;
  v.winner = 1;
  EXPECT_NE(render_leaderboard_line(v).find("latency=2.50 ms"), std::string::npos);
  EXPECT_NE(render_leaderboard_line(v).find("| winner #1"), std::string::npos);
}

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(Leaderboard, PrinterWritesPlainLinesToAFileAndRedrawsWhenAsked) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    LeaderboardPrinter printer(f);
    EXPECT_FALSE(printer.redraws()) << "a file is not a terminal";
    EXPECT_TRUE(printer.update(view()));
    printer.finish(view());
  }
  EXPECT_EQ(read_all(f), render_leaderboard_line(view()) + "\n" + render_leaderboard_line(view()) + "\n");
  std::fclose(f);

  f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    LeaderboardPrinter::Options options;
    options.mode = LeaderboardPrinter::Mode::kRedraw;
    LeaderboardPrinter printer(f, options);
    EXPECT_TRUE(printer.redraws());
    printer.update(view());
    printer.update(view());
  }
  const std::string board = render_leaderboard(view());
  EXPECT_EQ(read_all(f), board + "\x1b[6F\x1b[J" + board);
  std::fclose(f);

  f = std::tmpfile();
  {
    LeaderboardPrinter::Options options;
    options.mode = LeaderboardPrinter::Mode::kLines;
    options.min_interval = std::chrono::hours(1);
    LeaderboardPrinter printer(f, options);
    EXPECT_TRUE(printer.update(view()));
    EXPECT_FALSE(printer.update(view())) << "throttled";
  }
  EXPECT_EQ(read_all(f), render_leaderboard_line(view()) + "\n");
  std::fclose(f);
}

}  // namespace
}  // namespace streamml::demo
