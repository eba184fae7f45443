// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_board.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "board_text.h"
#include "horse_race/win_probability.h"

namespace streamml::demo {
namespace {

using board_text::bar;
using board_text::board_order;
using board_text::kBold;
using board_text::kGreen;
using board_text::kReset;

// Latency in at most 8 characters: "21.4 ms", "1.31 s".
std::string ms(double us) {
  if (us < 999950.0) return fmt::format("{:.1f} ms", us / 1000.0);
  return fmt::format("{:.2f} s", us / 1e6);
}

void pad_to(std::string& block, size_t lines) {
  for (auto n = static_cast<size_t>(std::count(block.begin(), block.end(), '\n')); n < lines; ++n) block += '\n';
}

}  // namespace

std::string render_progress_line(const DemoProgress& p) {
  std::string out = p.races_total > 0 ? fmt::format("races {}/{} finished", p.races_finished, p.races_total)
                                      : fmt::format("races {} finished", p.races_finished);
  out += fmt::format(" | {:.0f} rankings/s | latency ", p.rankings_per_s);
  out += p.p50_us > 0.0 ? fmt::format("p50 {} p99 {}", ms(p.p50_us), ms(p.p99_us)) : "p50 - p99 -";
  return out;
}

std::string render_finished_race(const FinishedRace& race, size_t top) {
  std::string out = fmt::format("race {}", race.race_id);
  bool winner_shown = false;
  for (size_t i = 0; i < race.board.size(); ++i) {
    const bool is_winner = race.winner != 0 && race.board[i] == race.winner;
    if (i >= top && !is_winner) continue;
    out += fmt::format("  {}. #{}{}", i + 1, race.board[i], is_winner ? " WINNER" : "");
    winner_shown = winner_shown || is_winner;
  }
  if (race.winner != 0 && !winner_shown) out += fmt::format("  winner #{} (not on the board)", race.winner);
  if (race.halfway_favourite != 0) {
    out += fmt::format("  (half way: #{} favourite", race.halfway_favourite);
    if (race.halfway_winner_probability >= 0.0) {
      out += fmt::format(", winner {:.1f}%", 100.0 * race.halfway_winner_probability);
    }
    out += ')';
  }
  return out;
}

std::string render_race_slot(const LeaderboardView& view, const LeaderboardStyle& style) {
  std::string out =
      fmt::format("Race {}  {:.0f} m  {} runners  t={:.1f} s  [{}] {:3.0f}%\n", view.race_id, view.race_distance_m,
                  view.contestants, view.time_s, bar(view.leader_progress, style.progress_width, '=', '>'),
                  100.0 * view.leader_progress);
  const std::vector<size_t> order = board_order(view);
  for (size_t r = 0; r < std::min(order.size(), style.max_rows); ++r) {
    const LeaderboardEntry& e = view.entries[order[r]];
    const char* note = e.finished ? "  finished" : "";
    std::string line =
        fmt::format("  {:>2}  {:>4}  pos {:>2}  {:5.1f}%  {}{}", r + 1, fmt::format("#{}", e.horse), e.position,
                    100.0 * e.probability, bar(e.probability, style.bar_width, '#', '\0'), note);
    if (style.ansi_colors && r == 0) {
      line = kBold + line + kReset;
    } else if (style.ansi_colors && e.finished) {
      line = kGreen + line + kReset;
    }
    out += line + '\n';
  }
  return out;
}

RaceBoard::RaceBoard(RaceBoardOptions options)
    : options_(std::move(options)), slots_(std::max<size_t>(1, options_.slots), 0) {
  options_.slots = slots_.size();
}

void RaceBoard::update(const LeaderboardView& view) {
  if (finished_.contains(view.race_id)) return;
  running_[view.race_id] = view;
  if (view.leader_progress >= 0.5) halfway_.try_emplace(view.race_id, view);
  fill_slots();
}

void RaceBoard::finish(const LeaderboardView& final_view, int32_t winner) {
  if (!finished_.insert(final_view.race_id).second) return;
  running_.erase(final_view.race_id);
  for (int64_t& slot : slots_) {
    if (slot == final_view.race_id) slot = 0;
  }
  FinishedRace done;
  done.race_id = final_view.race_id;
  done.time_s = final_view.time_s;
  done.winner = winner;
  for (size_t i : board_order(final_view)) done.board.push_back(final_view.entries[i].horse);
  if (const auto half = halfway_.find(final_view.race_id); half != halfway_.end()) {
    const std::vector<size_t> order = board_order(half->second);
    if (!order.empty()) done.halfway_favourite = half->second.entries[order.front()].horse;
    for (const LeaderboardEntry& e : half->second.entries) {
      if (winner != 0 && e.horse == winner) done.halfway_winner_probability = e.probability;
    }
    halfway_.erase(half);
  }
  results_.push_front(std::move(done));
  while (results_.size() > options_.results) results_.pop_back();
  fill_slots();
}

void RaceBoard::fill_slots() {
  if (std::find(slots_.begin(), slots_.end(), 0) == slots_.end()) return;
  // Running races not on the board, closest to finishing first (then the older race).
  std::vector<const LeaderboardView*> waiting;
  for (const auto& [id, view] : running_) {
    if (std::find(slots_.begin(), slots_.end(), id) == slots_.end()) waiting.push_back(&view);
  }
  std::stable_sort(waiting.begin(), waiting.end(), [](const LeaderboardView* a, const LeaderboardView* b) {
    return a->leader_progress > b->leader_progress;
  });
  auto next = waiting.begin();
  for (int64_t& slot : slots_) {
    if (slot == 0 && next != waiting.end()) slot = (*next++)->race_id;
  }
}

std::string RaceBoard::render(const DemoProgress& progress) const {
  std::string out = render_progress_line(progress) + "\n\n";
  for (int64_t id : slots_) {
    std::string block;
    const auto it = running_.find(id);
    if (it != running_.end()) {
      block = render_race_slot(it->second, options_.style);
    } else {
      block = "(no race waiting for this slot)\n";
    }
    pad_to(block, slot_lines());
    out += block + '\n';
  }
  std::string strip = fmt::format("Results (last {}; WINNER = official result)\n", options_.results);
  for (const FinishedRace& race : results_) strip += "  " + render_finished_race(race) + '\n';
  pad_to(strip, 1 + options_.results);
  return out + strip;
}

}  // namespace streamml::demo
