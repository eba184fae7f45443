// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/leaderboard.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "board_text.h"
#include "horse_race/race_board.h"
#include "horse_race/race_ranking.h"
#include "horse_race/win_probability.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/consumer.h"

namespace streamml::demo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kProbabilitySumTolerance = 1e-3;

using board_text::bar;
using board_text::board_order;
using board_text::kBold;
using board_text::kGreen;
using board_text::kReset;

std::string latency_text(double us) {
  if (!(us > 0.0)) return "-";
  if (us < 1000.0) return fmt::format("{:.0f} us", us);
  return fmt::format("{:.2f} ms", us / 1000.0);
}

}  // namespace

LeaderboardView make_leaderboard_view(const Tick& field, std::span<const double> probabilities, double latency_us,
                                      size_t updates) {
  LeaderboardView view;
  view.latency_us = latency_us;
  view.updates = updates;
  double leader = 0.0;
  for (size_t i = 0; i < field.size(); ++i) {
    const Telemetry& t = field[i];
    view.race_id = t.race_id;
    view.time_s = std::max(view.time_s, t.time_s);
    view.race_distance_m = std::max(view.race_distance_m, t.race_distance_m());
    view.contestants = std::max(view.contestants, t.contestants);
    leader = std::max(leader, t.distance_m);
    view.entries.push_back(LeaderboardEntry{t.horse, t.position, i < probabilities.size() ? probabilities[i] : 0.0,
                                            t.distance_m, t.finished});
  }
  view.leader_progress = view.race_distance_m > 0.0 ? std::min(1.0, leader / view.race_distance_m) : 0.0;
  return view;
}

std::string render_leaderboard(const LeaderboardView& view, const LeaderboardStyle& style) {
  std::string out;
  out += fmt::format("Race {}  {:.0f} m  {} runners  t={:.1f} s  update {}  latency {}\n", view.race_id,
                     view.race_distance_m, view.contestants, view.time_s, view.updates, latency_text(view.latency_us));
  out += fmt::format("[{}] {:5.1f}%  leader at {:.1f} m\n", bar(view.leader_progress, style.progress_width, '=', '>'),
                     100.0 * view.leader_progress, view.leader_progress * view.race_distance_m);
  out += fmt::format("{:>4}  {:>5}  {:>3}  {:>6}  {}\n", "rank", "horse", "pos", "win", "probability");
  const std::vector<size_t> order = board_order(view);
  const size_t shown = std::min(order.size(), style.max_rows);
  for (size_t r = 0; r < shown; ++r) {
    const LeaderboardEntry& e = view.entries[order[r]];
    std::string note;
    if (view.winner != 0 && e.horse == view.winner) {
      note = "  WINNER";
    } else if (e.finished) {
      note = "  finished";
    }
    std::string line = fmt::format("{:>4}  {:>5}  {:>3}  {:5.1f}%  {}{}", r + 1, fmt::format("#{}", e.horse),
                                   e.position, 100.0 * e.probability, bar(e.probability, style.bar_width, '#', '\0'),
                                   note);
    if (style.ansi_colors && r == 0) {
      line = kBold + line + kReset;
    } else if (style.ansi_colors && e.finished) {
      line = kGreen + line + kReset;
    }
    out += line + "\n";
  }
  if (shown < order.size()) out += fmt::format("      ... {} more\n", order.size() - shown);
  return out;
}

std::string render_leaderboard_line(const LeaderboardView& view, size_t top) {
  std::string out = fmt::format("race {} t={:.1f}s {:.0f}% latency={}", view.race_id, view.time_s,
                                100.0 * view.leader_progress, latency_text(view.latency_us));
  const std::vector<size_t> order = board_order(view);
  for (size_t r = 0; r < std::min(top, order.size()); ++r) {
    const LeaderboardEntry& e = view.entries[order[r]];
    out += fmt::format(" | {}. #{} {:.1f}% (pos {})", r + 1, e.horse, 100.0 * e.probability, e.position);
  }
  if (view.winner != 0) out += fmt::format(" | winner #{}", view.winner);
  return out;
}

LeaderboardPrinter::LeaderboardPrinter(std::FILE* out, Options options)
    : out_(out), options_(std::move(options)) {
  switch (options_.mode) {
    case Mode::kRedraw:
      redraw_ = true;
      break;
    case Mode::kLines:
      redraw_ = false;
      break;
    case Mode::kAuto:
      redraw_ = out_ != nullptr && ::isatty(::fileno(out_)) == 1;
      break;
  }
}

bool LeaderboardPrinter::update(const LeaderboardView& view) {
  const auto now = std::chrono::steady_clock::now();
  if (shown_any_ && now - last_shown_ < options_.min_interval) return false;
  last_shown_ = now;
  shown_any_ = true;
  draw(view);
  return true;
}

void LeaderboardPrinter::finish(const LeaderboardView& view) {
  draw(view);
  lines_on_screen_ = 0;  // the next board starts below this one
  shown_any_ = false;
}

void LeaderboardPrinter::draw(const LeaderboardView& view) {
  if (out_ == nullptr) return;
  if (!redraw_) {
    std::fputs((render_leaderboard_line(view) + "\n").c_str(), out_);
    std::fflush(out_);
    return;
  }
  std::string text;
  // Move to the first line of the previous board and clear to the end of the screen.
  if (lines_on_screen_ > 0) text += fmt::format("\x1b[{}F\x1b[J", lines_on_screen_);
  const std::string board = render_leaderboard(view, options_.style);
  text += board;
  lines_on_screen_ = static_cast<size_t>(std::count(board.begin(), board.end(), '\n'));
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

namespace {

// The terminal size of `out` (0 x 0 when unknown).
winsize terminal_size(std::FILE* out) {
  winsize ws{};
  if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) != 0) return winsize{};
  return ws;
}

// Redraws RaceBoard frames in place on a terminal, cutting lines to its
// width: a wrapped line would throw the cursor-up count off. Not thread-safe.
class FrameScreen {
 public:
  explicit FrameScreen(std::FILE* out) : out_(out), columns_(terminal_size(out).ws_col) {}
  void draw(const std::string& frame) {
    std::string text;
    // Back to the first line of the previous frame, clear to the end of the screen.
    if (lines_ > 0) text += fmt::format("\x1b[{}F\x1b[J", lines_);
    lines_ = 0;
    for (size_t begin = 0; begin < frame.size();) {
      size_t end = frame.find('\n', begin);
      if (end == std::string::npos) end = frame.size();
      std::string_view line(frame.data() + begin, end - begin);
      // Coloured lines (short board rows) keep their escapes; plain ones are cut.
      if (columns_ > 1 && line.size() >= columns_ && line.find('\x1b') == std::string_view::npos) {
        line = line.substr(0, columns_ - 1);
      }
      text.append(line);
      text += '\n';
      ++lines_;
      begin = end + 1;
    }
    std::fputs(text.c_str(), out_);
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  size_t columns_;  // 0: unknown
  size_t lines_ = 0;
};

// Recent ranking rate and latency: samples of the counters over the last `window`.
class RecentRate {
 public:
  explicit RecentRate(Clock::duration window) : window_(window) {}
  void sample(Clock::time_point now, size_t rankings, size_t latencies) {
    samples_.push_back({now, rankings, latencies});
    while (samples_.size() > 2 && now - samples_[1].at >= window_) samples_.pop_front();
  }
  DemoProgress progress(const LeaderboardResult& result) const {
    DemoProgress p;
    p.rankings = result.rankings;
    if (samples_.size() >= 2) {
      const Sample& a = samples_.front();
      const Sample& b = samples_.back();
      const double s = std::chrono::duration<double>(b.at - a.at).count();
      if (s > 0.0) p.rankings_per_s = static_cast<double>(b.rankings - a.rankings) / s;
      const size_t from = std::min(a.latencies, result.latencies_us.size());
      const LatencySummary l = summarize_latency(
          std::span<const double>(result.latencies_us.data() + from, result.latencies_us.size() - from));
      p.p50_us = l.p50_us;
      p.p99_us = l.p99_us;
    }
    return p;
  }

 private:
  struct Sample {
    Clock::time_point at;
    size_t rankings = 0;
    size_t latencies = 0;
  };
  Clock::duration window_;
  std::deque<Sample> samples_;
};

}  // namespace

LeaderboardResult run_leaderboard(const kafka::Config& config, const LeaderboardRunOptions& options,
                                  const std::map<int64_t, int32_t>& winners, const std::atomic<bool>& stop) {
  if (options.topic.empty()) throw ConfigError("leaderboard: the rankings topic is required");
  kafka::Consumer consumer(config);
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (int32_t p : consumer.partitions_of(options.topic)) {
    assignment.push_back({options.topic, p, kafka::kOffsetBeginning});
  }
  consumer.assign(assignment);

  // Redraw mode: the RaceBoard frame in place. Lines mode: one line per finished race and a progress line
  // every summary_interval. Quiet: only the progress lines.
  const bool show = options.out != nullptr;
  const bool redraw = show && !options.quiet &&
                      (options.mode == LeaderboardPrinter::Mode::kRedraw ||
                       (options.mode == LeaderboardPrinter::Mode::kAuto && ::isatty(::fileno(options.out)) == 1));
  RaceBoardOptions board_options;
  board_options.slots = std::max<size_t>(1, options.board_races);
  board_options.style.ansi_colors = redraw;
  if (redraw) {
    // Fit the terminal: a frame taller than the screen cannot be redrawn in place.
    if (const size_t rows = terminal_size(options.out).ws_row; rows > 0) {
      const size_t fixed = 3 + 1 + board_options.results;  // progress, blank, title, results, cursor line
      const size_t per_slot = board_options.style.max_rows + 2;
      board_options.slots = std::clamp<size_t>(rows > fixed ? (rows - fixed) / per_slot : 1, 1, board_options.slots);
    }
  }
  RaceBoard race_board(board_options);
  std::optional<FrameScreen> screen;
  if (redraw) screen.emplace(options.out);

  LeaderboardResult result;
  RankingTraceBuilder builder;
  RecentRate recent(std::chrono::seconds(2));
  size_t finished_races = 0;
  auto last_ranking = Clock::now();
  std::optional<Clock::time_point> first_ranking;
  auto last_frame = Clock::time_point{};
  auto last_summary = Clock::now();
  auto progress_now = [&] {
    DemoProgress p = recent.progress(result);
    p.races_finished = finished_races;
    p.races_total = winners.size();
    return p;
  };
  while (!stop.load()) {
    if (options.expected_rankings > 0 && result.rankings >= options.expected_rankings) break;
    // poll() returns as soon as a ranking is there; poll_batch() would wait
    // out its timeout unless 2048 were (up to 20 ms on every measured
    // latency). Then take what was fetched with it.
    std::vector<kafka::Message> messages;
    if (kafka::Message first = consumer.poll(std::chrono::milliseconds(20)); !first.empty()) {
      messages.push_back(std::move(first));
      for (kafka::Message& m : consumer.poll_batch(2048, std::chrono::milliseconds(0))) {
        messages.push_back(std::move(m));
      }
    }
    const int64_t received_us = wall_clock_us();
    for (kafka::Message& m : messages) {
      if (m.error()) {
        if (!m.is_eof()) log_warn("leaderboard: consumer: {}", m.error().message());
        continue;
      }
      last_ranking = Clock::now();
      if (!first_ranking) first_ranking = last_ranking;
      ++result.rankings;
      const std::string where = fmt::format("{}:{}:{}", m.topic(), m.partition(), m.offset());
      RankingRecord ranking;
      try {
        ranking = parse_ranking(m.value(), where);
      } catch (const InputError& e) {
        if (result.bad_rankings++ < 5) log_warn("leaderboard: {}", e.what());
        continue;
      }
      if (std::abs(ranking.probability_sum() - 1.0) > kProbabilitySumTolerance) {
        if (result.probability_sum_violations++ < 5) {
          log_warn("leaderboard: {}: probabilities of race {} at t={}s sum to {}", where, ranking.race_id,
                   ranking.time_s, ranking.probability_sum());
        }
      }
      ++result.rankings_per_race[ranking.race_id];
      double latency_us = 0.0;
      if (const auto produced = tick_produced_us(m.headers())) {
        latency_us = static_cast<double>(std::max<int64_t>(0, received_us - *produced));
        result.latencies_us.push_back(latency_us);
      }
      builder.add(ranking);

      const bool race_over = ranking.tick_complete &&
                             ranking.entries.size() == static_cast<size_t>(ranking.contestants) &&
                             std::all_of(ranking.entries.begin(), ranking.entries.end(),
                                         [](const LeaderboardEntry& e) { return e.finished; });
      LeaderboardView view = ranking.view();
      view.latency_us = latency_us;
      if (!race_over) {
        race_board.update(view);
        if (options.observer != nullptr) options.observer->on_ranking(view);
        continue;
      }
      ++finished_races;
      const RaceTrace* traced = nullptr;
      const auto winner = winners.find(ranking.race_id);
      if (winner != winners.end()) {
        view.winner = winner->second;
        if (auto trace = builder.finish(ranking.race_id, winner->second)) {
          result.traces.push_back(std::move(*trace));
          traced = &result.traces.back();
        }
      }
      race_board.finish(view, view.winner);
      if (options.observer != nullptr) {
        options.observer->on_race_over(view, traced);
        options.observer->on_progress(progress_now());  // the finished count with the race, not 200 ms later
      }
      if (show && !redraw && !options.quiet) {
        std::fputs((render_leaderboard_line(view) + "\n").c_str(), options.out);
        std::fflush(options.out);
      }
    }
    const auto now = Clock::now();
    recent.sample(now, result.rankings, result.latencies_us.size());
    if ((screen || options.observer != nullptr) && now - last_frame >= options.min_interval) {
      const DemoProgress progress = progress_now();
      if (screen) screen->draw(race_board.render(progress));
      if (options.observer != nullptr) options.observer->on_progress(progress);
      last_frame = now;
    }
    if (show && !redraw && now - last_summary >= options.summary_interval) {
      std::fputs((render_progress_line(progress_now()) + "\n").c_str(), options.out);
      std::fflush(options.out);
      last_summary = now;
    }
    if (messages.empty() && options.idle_timeout_ms >= 0 &&
        Clock::now() - last_ranking > std::chrono::milliseconds(options.idle_timeout_ms)) {
      log_warn("leaderboard: no ranking for {} ms, stopping after {} ranking(s)", options.idle_timeout_ms,
               result.rankings);
      break;
    }
  }
  consumer.close();
  if (!show && options.observer == nullptr) return result;
  // The last frame, then the whole run's figures.
  if (screen) screen->draw(race_board.render(progress_now()));
  DemoProgress overall = progress_now();
  const LatencySummary l = summarize_latency(result.latencies_us);
  overall.p50_us = l.p50_us;
  overall.p99_us = l.p99_us;
  const double seconds = first_ranking ? std::chrono::duration<double>(last_ranking - *first_ranking).count() : 0.0;
  overall.rankings_per_s = seconds > 0.0 ? static_cast<double>(result.rankings) / seconds : 0.0;
  if (options.observer != nullptr) options.observer->on_progress(overall);
  if (show) {
    std::fputs(fmt::format("{}{} (whole run)\n", screen ? "\n" : "", render_progress_line(overall)).c_str(),
               options.out);
    std::fflush(options.out);
  }
  return result;
}

namespace board_text {

std::string bar(double fraction, size_t width, char fill, char head) {
  const double f = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
  const auto full = static_cast<size_t>(std::lround(f * static_cast<double>(width)));
  std::string out(full, fill);
  if (head != '\0' && full > 0 && full < width) out.back() = head;
  out.append(width - full, '.');
  return out;
}

std::vector<size_t> board_order(const LeaderboardView& view) {
  std::vector<double> p;
  std::vector<RunnerStanding> standings;
  for (const auto& e : view.entries) {
    p.push_back(e.probability);
    standings.push_back(RunnerStanding{e.position, e.finished});
  }
  return rank_by_probability(p, standings);
}

}  // namespace board_text

}  // namespace streamml::demo
