// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The race page's server on a loopback port: its files, the event stream
// (what a page gets, several pages at once, a page that joins late) and
// that finishing and stopping end open streams. The page itself is tested
// in a browser by tests/interop/demo_web.py.
#include "horse_race/race_web.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "horse_race/race_board.h"
#include "streamml/common/error.h"
#include "unit/demo/three_horse_view.h"

namespace streamml::demo {
namespace {

// A view of race `id` with the leader at `progress` of 1000 m; horse 2 is the favourite.
LeaderboardView race(int64_t id, double progress, bool finished = false, int32_t winner = 0) {
  LeaderboardView v = testing::three_horse_view(id, progress, {0.25, 0.6, 0.15}, finished);
  v.winner = winner;
  return v;
}

// A page's event stream on its own thread: collects the text until the
// stream ends (the server must end it before this is destroyed).
class EventStream {
 public:
  explicit EventStream(int port)
      : thread_([this, port] {
          httplib::Client client("127.0.0.1", port);
          client.set_read_timeout(std::chrono::seconds(60));
          auto res = client.Get("/events", [this](const char* data, size_t size) {
            std::lock_guard lock(mutex_);
            text_.append(data, size);
            changed_.notify_all();
            return true;
          });
          std::lock_guard lock(mutex_);
          content_type_ = res ? res->get_header_value("Content-Type") : "";
          ended_ = true;
          changed_.notify_all();
        }) {}
  ~EventStream() { thread_.join(); }

  // Waits until the stream has sent `needle` (or ended, or 60 s); returns whether it did.
  bool wait_for(const std::string& needle) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(60),
                      [&] { return text_.find(needle) != std::string::npos || ended_; });
    return text_.find(needle) != std::string::npos;
  }
  // Waits until the stream ended (or 60 s); returns whether it did.
  bool wait_ended() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return ended_; });
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  std::string content_type() {
    std::lock_guard lock(mutex_);
    return content_type_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  std::string content_type_;  // once the stream ended
  bool ended_ = false;
  std::thread thread_;
};

TEST(RaceWeb, ServesThePageAndItsFilesFromTheBinary) {
  RaceWebServer web;
  ASSERT_GT(web.port(), 0);
  EXPECT_EQ(web.url(), "http://127.0.0.1:" + std::to_string(web.port()) + "/");
  httplib::Client client("127.0.0.1", web.port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("<script src=\"/app.js\">"), std::string::npos);
  auto script = client.Get("/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_NE(script->get_header_value("Content-Type").find("javascript"), std::string::npos);
  EXPECT_NE(script->body.find("new EventSource('/events')"), std::string::npos);
  auto style = client.Get("/style.css");
  ASSERT_TRUE(style);
  EXPECT_EQ(style->status, 200);
  auto chart = client.Get("/chart.svg");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 404);  // no late surge yet
}

TEST(RaceWeb, EveryOpenPageGetsTheRankingsAndTheProgressThenTheEnd) {
  RaceWebServer web;
  EventStream first(web.port());
  EventStream second(web.port());
  web.on_ranking(race(501, 0.4));
  web.on_progress(DemoProgress{.races_finished = 1, .races_total = 20, .rankings = 300, .rankings_per_s = 150.0,
                               .p50_us = 2500.0, .p99_us = 9000.0});
  for (EventStream* page : {&first, &second}) {
    ASSERT_TRUE(page->wait_for("\"race\":501")) << page->text();
    ASSERT_TRUE(page->wait_for("\"total\":20")) << page->text();
  }
  const std::string text = first.text();
  EXPECT_NE(text.find("event: state\ndata: {"), std::string::npos) << text;
  // Runners in board order: the favourite (#2) first.
  EXPECT_NE(text.find(R"("runners":[{"horse":2,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("p50_us":2500)"), std::string::npos) << text;

  // The race ends: the pages get it as finished and no longer running, then the demo ends.
  web.on_race_over(race(501, 1.0, /*finished=*/true, /*winner=*/2), /*trace=*/nullptr);
  web.finish();
  for (EventStream* page : {&first, &second}) {
    ASSERT_TRUE(page->wait_ended());
    EXPECT_NE(page->text().find(R"("race":501,)"), std::string::npos);
    EXPECT_NE(page->text().find(R"("winner":2,"finished":true)"), std::string::npos) << page->text();
    EXPECT_NE(page->text().find(R"("running":[],"done":true)"), std::string::npos) << page->text();
    EXPECT_EQ(page->content_type(), "text/event-stream");
  }
}

TEST(RaceWeb, APageGetsAnEmptyStateAtOnceBeforeAnyRace) {
  RaceWebServer web;
  EventStream page(web.port());
  // Without waiting for news, so that the page knows it is connected while the demo still trains.
  ASSERT_TRUE(page.wait_for(R"(data: {"races":[],"running":[],"done":false})")) << page.text();
  web.stop();
  EXPECT_TRUE(page.wait_ended());
}

TEST(RaceWeb, APageThatOpensLateGetsTheRunningRacesAndTheLastResults) {
  RaceWebServer web;
  web.on_ranking(race(7, 0.95));
  web.on_race_over(race(7, 1.0, true, 1), nullptr);
  web.on_ranking(race(8, 0.3));
  web.on_ranking(race(9, 0.2));
  web.on_ranking(race(7, 0.99));  // a late ranking of a finished race is not shown
  EventStream page(web.port());
  ASSERT_TRUE(page.wait_for("\"running\":[8,9]")) << page.text();
  const std::string text = page.text();
  EXPECT_NE(text.find(R"({"race":7,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"({"race":8,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"({"race":9,)"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"("leader":0.99)"), std::string::npos) << text;
  web.stop();
  EXPECT_TRUE(page.wait_ended());
}

TEST(RaceWeb, ALateSurgeIsChartedOnThePage) {
  // Race 12: #1 is the favourite at half way, #2 surges and wins.
  RaceTrace surging;
  surging.race_id = 12;
  surging.winner = 2;
  surging.horses = {1, 2};
  for (auto [progress, p1] : {std::pair{0.0, 0.6}, {0.5, 0.8}, {0.9, 0.3}}) {
    surging.ticks.push_back(TickPrediction{progress * 100, progress, {p1, 1.0 - p1}, {1, 2}, 0});
  }
  RaceWebServer web;
  EventStream page(web.port());
  web.on_race_over(race(12, 1.0, true, 2), &surging);
  ASSERT_TRUE(page.wait_for("</svg>")) << page.text();
  EXPECT_NE(page.text().find("event: chart\ndata: <?xml"), std::string::npos) << page.text();
  EXPECT_NE(page.text().find("late surge by #2"), std::string::npos);
  httplib::Client client("127.0.0.1", web.port());
  auto chart = client.Get("/chart.svg");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_EQ(chart->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_NE(chart->body.find("late surge by #2"), std::string::npos);
  web.stop();
  EXPECT_TRUE(page.wait_ended());
}

TEST(RaceWeb, StopEndsOpenStreamsAndTheServer) {
  RaceWebServer web;
  const int port = web.port();
  EventStream page(port);
  web.on_ranking(race(1, 0.1));
  ASSERT_TRUE(page.wait_for("\"race\":1"));
  web.stop();  // returns although the page is still connected
  EXPECT_TRUE(page.wait_ended());
  httplib::Client client("127.0.0.1", port);
  EXPECT_FALSE(client.Get("/"));  // nothing listens any more
  web.stop();                     // idempotent
}

TEST(RaceWeb, APortInUseIsAnErrorNamingIt) {
  RaceWebServer first;
  try {
    RaceWebServer second(RaceWebOptions{.port = first.port()});
    FAIL() << "a second server listened on port " << first.port();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace streamml::demo
