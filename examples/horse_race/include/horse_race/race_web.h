// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The race in a browser: an HTTP server (cpp-httplib) with the demo's page
// and a Server-Sent Events stream of what the leaderboard sees. It is a
// LeaderboardObserver: given to run_leaderboard() (or run_demo()), it shows
// the running races (runners along the track, win probabilities as bars),
// the finished ones with their winner, the overall progress and, once a race
// had a late surge, the late-surge chart (race_chart.h).
//
//   GET /            the page (index.html, app.js, style.css: files of
//                    examples/horse_race/web/ compiled into the binary; no
//                    network needed)
//   GET /events      text/event-stream: "state" and "chart" events
//                    (race_web_state.h); any number of pages
//   GET /chart.svg   the late-surge chart (404 until there is one)
//
// Thread-safety: thread-safe. The observer calls come from the
// leaderboard's thread, finish() and stop() from any one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "horse_race/leaderboard.h"
#include "horse_race/race_report.h"

namespace httplib {
class Server;
}

namespace streamml::demo {

class RaceWebState;

struct RaceWebOptions {
  std::string host = "127.0.0.1";  // address to listen on (127.0.0.1: this machine only)
  int port = 0;                    // port to listen on; 0: any free one (port() says which)
  std::chrono::milliseconds min_interval{150};  // a page gets at most one state event per interval
  std::chrono::milliseconds heartbeat{2000};    // an idle stream sends a comment this often (finds closed pages)
};

class RaceWebServer final : public LeaderboardObserver {
 public:
  // Listens at once and serves on its own thread. Throws Error when it
  // cannot listen on options.host:options.port.
  explicit RaceWebServer(RaceWebOptions options = {});
  ~RaceWebServer() override;  // stop()
  RaceWebServer(const RaceWebServer&) = delete;
  RaceWebServer& operator=(const RaceWebServer&) = delete;

  int port() const { return port_; }
  // "http://host:port/".
  std::string url() const;

  void on_ranking(const LeaderboardView& view) override;
  // Also charts the race with the largest late surge so far (late_surge_chart()).
  void on_race_over(const LeaderboardView& final_view, const RaceTrace* trace) override;
  void on_progress(const DemoProgress& progress) override;

  // The demo is over: every open page gets the final state (marked done) and
  // its stream ends. Waits up to `drain` for that, so the pages have it
  // before stop().
  void finish(std::chrono::milliseconds drain = std::chrono::seconds(3));
  // Ends every stream, stops the server and joins its thread. Idempotent.
  void stop();

 private:
  RaceWebOptions options_;
  std::unique_ptr<RaceWebState> state_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::vector<RaceTrace> traces_;  // leaderboard thread only: the finished races, for the chart
  int64_t chart_race_ = 0;         // leaderboard thread only: the race charted (0: none)
  std::atomic<bool> listen_returned_{false};  // the server thread's listening loop ended
  std::thread thread_;
};

}  // namespace streamml::demo
