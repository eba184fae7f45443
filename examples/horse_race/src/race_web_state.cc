// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "race_web_state.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "board_text.h"

namespace streamml::demo {
namespace {

using Clock = std::chrono::steady_clock;

// A JSON number: NaN and infinities (not JSON) become 0.
std::string number(double value) { return std::isfinite(value) ? fmt::format("{:.6g}", value) : "0"; }

std::string progress_json(const DemoProgress& p) {
  return fmt::format(R"({{"finished":{},"total":{},"rankings":{},"per_s":{},"p50_us":{},"p99_us":{}}})",
                     p.races_finished, p.races_total, p.rankings, number(p.rankings_per_s), number(p.p50_us),
                     number(p.p99_us));
}

// A race with its runners in board order (as the terminal board lists them).
std::string race_json(const LeaderboardView& v, bool finished) {
  std::string out = fmt::format(
      R"({{"race":{},"t":{},"distance":{},"leader":{},"contestants":{},"latency_us":{},"winner":{},"finished":{},)"
      R"("runners":[)",
      v.race_id, number(v.time_s), number(v.race_distance_m), number(v.leader_progress), v.contestants,
      number(v.latency_us), v.winner, finished);
  bool first = true;
  for (size_t i : board_text::board_order(v)) {
    const LeaderboardEntry& e = v.entries[i];
    out += fmt::format(R"({}{{"horse":{},"pos":{},"p":{},"d":{},"fin":{}}})", first ? "" : ",", e.horse, e.position,
                       number(e.probability), number(e.distance_m), e.finished);
    first = false;
  }
  return out + "]}";
}

// An SSE event; `data` may span lines (one "data:" line each).
std::string sse_event(std::string_view name, std::string_view data) {
  std::string out = fmt::format("event: {}\n", name);
  size_t begin = 0;
  while (begin <= data.size()) {
    size_t end = data.find('\n', begin);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += "data: ";
    out += line;
    out += '\n';
    begin = end + 1;
  }
  return out + "\n";
}

}  // namespace

RaceWebState::RaceWebState(size_t results) : results_(results) {}

uint64_t RaceWebState::bump_locked() {
  changed_.notify_all();
  return ++version_;
}

void RaceWebState::update(const LeaderboardView& view) {
  std::lock_guard lock(mutex_);
  if (finished_ids_.count(view.race_id) > 0) return;
  Race& race = running_[view.race_id];
  race.view = view;
  race.version = bump_locked();
}

void RaceWebState::finish(const LeaderboardView& final_view) {
  std::lock_guard lock(mutex_);
  if (!finished_ids_.insert(final_view.race_id).second) return;
  running_.erase(final_view.race_id);
  finished_.push_front(Race{final_view, bump_locked(), /*finished=*/true});
  while (finished_.size() > results_) finished_.pop_back();
}

void RaceWebState::set_progress(const DemoProgress& progress) {
  std::lock_guard lock(mutex_);
  progress_ = progress;
  progress_version_ = bump_locked();
}

void RaceWebState::set_chart(std::string svg) {
  std::lock_guard lock(mutex_);
  chart_ = std::move(svg);
  chart_version_ = bump_locked();
}

std::string RaceWebState::chart() const {
  std::lock_guard lock(mutex_);
  return chart_;
}

void RaceWebState::set_done() {
  std::lock_guard lock(mutex_);
  done_ = true;
  bump_locked();
}

void RaceWebState::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  bump_locked();
}

bool RaceWebState::news_locked(const Cursor& cursor) const {
  // A new stream's first event goes out at once, even with nothing in it yet: the page knows it is connected.
  return version_ > cursor.version || closed_ || cursor.last_sent == Clock::time_point{};
}

std::string RaceWebState::state_event_locked(const Cursor& cursor) const {
  std::string races;
  auto add = [&](const Race& race) {
    if (race.version <= cursor.version) return;
    if (!races.empty()) races += ',';
    races += race_json(race.view, race.finished);
  };
  // Oldest finished first, so a page that appends them keeps the newest on top.
  for (auto it = finished_.rbegin(); it != finished_.rend(); ++it) add(*it);
  for (const auto& [id, race] : running_) add(race);
  std::string running;
  for (const auto& [id, race] : running_) running += (running.empty() ? "" : ",") + std::to_string(id);
  std::string json = "{";
  if (progress_version_ > cursor.version) json += "\"progress\":" + progress_json(progress_) + ",";
  json += fmt::format(R"("races":[{}],"running":[{}],"done":{}}})", races, running, done_);
  return sse_event("state", json);
}

std::optional<std::string> RaceWebState::next_events(Cursor& cursor, std::chrono::milliseconds min_interval,
                                                     std::chrono::milliseconds heartbeat) {
  std::unique_lock lock(mutex_);
  if (cursor.done_sent || closed_) return std::nullopt;
  const auto news = [&] { return news_locked(cursor); };
  // The first events go out at once; later ones at most every min_interval.
  if (cursor.last_sent != Clock::time_point{}) {
    changed_.wait_until(lock, cursor.last_sent + min_interval, [&] { return closed_; });
  }
  if (!changed_.wait_for(lock, heartbeat, news)) return std::string();
  if (closed_) return std::nullopt;
  std::string events;
  if (chart_version_ > cursor.chart_version) {
    events += sse_event("chart", chart_);
    cursor.chart_version = chart_version_;
  }
  events += state_event_locked(cursor);
  cursor.version = version_;
  cursor.done_sent = done_;
  cursor.last_sent = Clock::now();
  return events;
}

void RaceWebState::stream_opened() {
  std::lock_guard lock(mutex_);
  ++streams_;
}

void RaceWebState::stream_closed() {
  std::lock_guard lock(mutex_);
  --streams_;
  changed_.notify_all();
}

bool RaceWebState::wait_streams_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return streams_ == 0; });
}

}  // namespace streamml::demo
