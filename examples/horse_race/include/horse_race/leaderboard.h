// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The live leaderboard: race progress bar, horses ordered by predicted win
// probability with their current position and a probability bar, and the
// latency of the last update. render_leaderboard() is a pure function to a
// string; LeaderboardPrinter is the thin printer that redraws in place with
// ANSI escapes on a terminal and prints one plain line per update otherwise.
// run_leaderboard() is the demo's leaderboard step (step 5 of race_demo.h):
// it reads the rankings topic, shows the multi-race board (race_board.h),
// measures latency and collects the traces the report evaluates.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "horse_race/race.h"
#include "horse_race/race_report.h"
#include "streamml/kafka/config.h"

namespace streamml::demo {

// One horse on the board.
struct LeaderboardEntry {
  int32_t horse = 0;         // horse number
  int32_t position = 0;      // current position (finishing position once finished)
  double probability = 0.0;  // predicted win probability
  double distance_m = 0.0;   // distance covered
  bool finished = false;     // crossed the line
};

// What the board shows at one moment.
struct LeaderboardView {
  int64_t race_id = 0;                    // race
  double time_s = 0.0;                    // race time
  double race_distance_m = 0.0;           // race distance
  double leader_progress = 0.0;           // leader distance / race distance, 0..1
  int32_t contestants = 0;                // horses in the race
  std::vector<LeaderboardEntry> entries;  // any order; rendered by probability
  double latency_us = 0.0;                // latency of the last update (record in -> ranking out)
  size_t updates = 0;                     // updates so far in this race
  int32_t winner = 0;                     // the official winner once known, else 0
};

// Builds a view from the field and the probabilities aligned with it (missing
// probabilities count as 0).
LeaderboardView make_leaderboard_view(const Tick& field, std::span<const double> probabilities, double latency_us,
                                      size_t updates = 0);

struct LeaderboardStyle {
  size_t progress_width = 40;  // characters of the race progress bar
  size_t bar_width = 24;       // characters of a probability bar
  size_t max_rows = 14;        // horses shown (the most likely first)
  bool ansi_colors = false;    // bold the favourite, colour finished horses
};

// The multi-line board, each line ending in '\n'; no cursor control.
std::string render_leaderboard(const LeaderboardView& view, const LeaderboardStyle& style = {});

// One line for logs and pipes: race, time, progress, latency and the top `top` horses.
std::string render_leaderboard_line(const LeaderboardView& view, size_t top = 3);

// Prints boards to a stream. Not thread-safe: one printing thread.
class LeaderboardPrinter {
 public:
  enum class Mode {
    kAuto,    // kRedraw when `out` is a terminal, else kLines
    kRedraw,  // redraw the board in place (ANSI escapes)
    kLines,   // one render_leaderboard_line() per update
  };

  struct Options {
    Mode mode = Mode::kAuto;                   // see Mode
    LeaderboardStyle style;                    // board style (redraw mode)
    std::chrono::milliseconds min_interval{0};  // skip updates closer than this to the last one shown
  };

  // `out` must outlive the printer (e.g. stdout, owned by the caller).
  explicit LeaderboardPrinter(std::FILE* out, Options options);
  explicit LeaderboardPrinter(std::FILE* out) : LeaderboardPrinter(out, Options{}) {}

  // Shows `view` unless it comes within min_interval of the last one shown. Returns whether it was shown.
  bool update(const LeaderboardView& view);
  // Always shows `view` (e.g. the final board with the winner) and starts a new board below it.
  void finish(const LeaderboardView& view);

  bool redraws() const { return redraw_; }

 private:
  void draw(const LeaderboardView& view);

  std::FILE* out_;
  Options options_;
  bool redraw_;
  size_t lines_on_screen_ = 0;
  std::chrono::steady_clock::time_point last_shown_{};
  bool shown_any_ = false;
};

struct DemoProgress;  // race_board.h

// Sees what run_leaderboard() shows, on its thread, e.g. to show it
// elsewhere (race_web.h). Implementations must return quickly: they hold up
// the rankings.
class LeaderboardObserver {
 public:
  virtual ~LeaderboardObserver() = default;
  // The latest ranking of a running race.
  virtual void on_ranking(const LeaderboardView& view) = 0;
  // A race's last ranking, with the official winner in final_view.winner (0:
  // unknown), and its trace when one was built (else nullptr).
  virtual void on_race_over(const LeaderboardView& final_view, const RaceTrace* trace) = 0;
  // The overall progress, at most every min_interval, after every finished
  // race, and once more at the end with the whole run's figures.
  virtual void on_progress(const DemoProgress& progress) = 0;
};

struct LeaderboardRunOptions {
  std::string topic;                   // rankings topic
  size_t expected_rankings = 0;        // stop after this many rankings (0: only on idle timeout or stop)
  int64_t idle_timeout_ms = 20000;     // stop after this long without a ranking (-1: never)
  std::FILE* out = nullptr;            // where the board goes (nullptr: nowhere)
  LeaderboardPrinter::Mode mode = LeaderboardPrinter::Mode::kAuto;  // redraw on a terminal, lines otherwise
  bool quiet = false;      // only the periodic progress line instead of the board
  size_t board_races = 3;  // redraw mode: races on the board at once (fewer if the terminal is short)
  std::chrono::milliseconds min_interval{200};       // redraw mode: board refresh throttle
  std::chrono::milliseconds summary_interval{5000};  // lines and quiet mode: progress line period
  LeaderboardObserver* observer = nullptr;            // also told every ranking and the progress (not owned)
};

struct LeaderboardResult {
  std::vector<RaceTrace> traces;    // complete-tick rankings of every finished race with a known winner
  std::vector<double> latencies_us;  // per ranking: delivered (wall clock) - tick produced
  size_t rankings = 0;              // rankings read
  size_t bad_rankings = 0;          // rankings that did not parse (logged) or broke the sum-to-1 rule
  size_t probability_sum_violations = 0;  // rankings whose probabilities do not sum to 1 (+-1e-3)
  std::map<int64_t, size_t> rankings_per_race;  // rankings read per race
};

// Reads the rankings topic from the beginning (all partitions), shows the
// board and builds traces; `winners` maps race id to the official winner
// (races not in it are not traced; its size is the races' total on the
// progress line). What goes to `out`: in redraw mode the RaceBoard frame
// (progress line, the board_races races closest to finishing, the results
// strip), redrawn in place; in lines mode one render_leaderboard_line() per
// finished race (with "winner #N") and a progress line every
// summary_interval; quiet, only the progress lines. All modes end with the
// whole run's progress line. options.observer, when set, sees every ranking
// and the progress as well (whatever `out` is). Blocks until
// expected_rankings were read, the idle timeout or `stop` (which may be set
// from any thread). Throws KafkaException when the consumer cannot start.
LeaderboardResult run_leaderboard(const kafka::Config& config, const LeaderboardRunOptions& options,
                                  const std::map<int64_t, int32_t>& winners, const std::atomic<bool>& stop);

}  // namespace streamml::demo
