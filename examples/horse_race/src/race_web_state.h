// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// What the race page (race_web.h) shows, and the Server-Sent Events that
// bring it to each open page. The leaderboard's thread writes (the latest
// ranking of every running race, finished races, progress, the late-surge
// chart); every /events stream reads it through its own Cursor and gets, at
// most every min_interval, one event with only what changed since its last:
//
//   event: state
//   data: {"progress":{...},"races":[...],"running":[ids],"done":false}
//
//   event: chart
//   data: <svg ...>          (one "data:" line per line of the SVG)
//
// A new stream's first event goes out at once and carries everything: the
// running races, the last finished ones, the progress. Rankings coalesce: a page sees the latest view
// of each race, never a backlog, however slow it is.
//
// Thread-safety: thread-safe; any number of writers and streams.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "horse_race/leaderboard.h"
#include "horse_race/race_board.h"

namespace streamml::demo {

class RaceWebState {
 public:
  // A stream's position: what it has sent so far.
  struct Cursor {
    uint64_t version = 0;        // state changes sent
    uint64_t chart_version = 0;  // chart sent
    bool done_sent = false;      // the final state was sent: the stream ends
    std::chrono::steady_clock::time_point last_sent{};  // epoch: nothing sent yet
  };

  // `results`: finished races a new page gets (the page keeps its own list).
  explicit RaceWebState(size_t results = 8);

  // The latest ranking of a running race (ignored once the race finished).
  void update(const LeaderboardView& view);
  // A race's last ranking; final_view.winner is the official winner (0: unknown).
  void finish(const LeaderboardView& final_view);
  void set_progress(const DemoProgress& progress);
  // The late-surge chart (an SVG document).
  void set_chart(std::string svg);
  std::string chart() const;  // "" until set
  // The demo is over: every stream sends what is left, with "done":true, and ends.
  void set_done();
  // The server goes down: every stream ends at once.
  void close();

  // The next events for the stream at `cursor`, advancing it: waits until
  // there is news and min_interval has passed since the stream's last
  // events, or `heartbeat` passed (then "" : the stream sends a comment).
  // nullopt when the stream ends (after "done", or closed).
  std::optional<std::string> next_events(Cursor& cursor, std::chrono::milliseconds min_interval,
                                         std::chrono::milliseconds heartbeat);

  // Streams open (stream_opened() .. stream_closed()), for finishing.
  void stream_opened();
  void stream_closed();
  // Waits until no stream is open, or `timeout`. Returns whether none is.
  bool wait_streams_closed(std::chrono::milliseconds timeout);

 private:
  struct Race {
    LeaderboardView view;
    uint64_t version = 0;
    bool finished = false;
  };

  bool news_locked(const Cursor& cursor) const;
  std::string state_event_locked(const Cursor& cursor) const;
  uint64_t bump_locked();

  const size_t results_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t version_ = 0;                        // guarded by mutex_; every change increments it
  std::map<int64_t, Race> running_;             // guarded by mutex_
  std::deque<Race> finished_;                   // guarded by mutex_; newest first, at most results_
  std::set<int64_t> finished_ids_;              // guarded by mutex_
  DemoProgress progress_;                       // guarded by mutex_
  uint64_t progress_version_ = 0;               // guarded by mutex_
  std::string chart_;                           // guarded by mutex_
  uint64_t chart_version_ = 0;                  // guarded by mutex_
  bool done_ = false;                           // guarded by mutex_
  bool closed_ = false;                         // guarded by mutex_
  size_t streams_ = 0;                          // guarded by mutex_
};

}  // namespace streamml::demo
