// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_web.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <utility>

#include "horse_race/race_chart.h"
#include "race_web_assets.h"
#include "race_web_state.h"
#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

// Every open page holds one thread with its event stream, and a page also
// fetches its files: more threads than cpp-httplib's default 8, so a few
// tabs never queue. A write that stalls this long means a page is gone.
// An idle keep-alive connection holds its thread this long, and stop()
// waits for it: short.
constexpr size_t kHttpThreads = 32;
constexpr auto kWriteTimeout = std::chrono::seconds(5);
constexpr time_t kKeepAliveSeconds = 1;

void serve_assets(httplib::Server& http) {
  for (const WebAsset& asset : race_web_assets()) {
    auto handler = [asset](const httplib::Request&, httplib::Response& res) {
      res.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type));
      res.set_header("Cache-Control", "no-cache");
    };
    http.Get(std::string(asset.path), handler);
    if (asset.path == "/index.html") http.Get("/", handler);
  }
}

}  // namespace

RaceWebServer::RaceWebServer(RaceWebOptions options)
    : options_(std::move(options)),
      state_(std::make_unique<RaceWebState>()),
      http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  http_->set_write_timeout(kWriteTimeout);
  http_->set_keep_alive_timeout(kKeepAliveSeconds);
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  serve_assets(*http_);
  http_->Get("/chart.svg", [this](const httplib::Request&, httplib::Response& res) {
    std::string svg = state_->chart();
    if (svg.empty()) {
      res.status = 404;
      res.set_content("no late-surge chart yet\n", "text/plain");
      return;
    }
    res.set_content(std::move(svg), "image/svg+xml");
  });
  http_->Get("/events", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    state_->stream_opened();
    auto cursor = std::make_shared<RaceWebState::Cursor>();
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, cursor](size_t, httplib::DataSink& sink) {
          const std::optional<std::string> events =
              state_->next_events(*cursor, options_.min_interval, options_.heartbeat);
          if (!events) {
            sink.done();
            return true;
          }
          // An idle stream sends a comment, so a closed page is noticed.
          const std::string& text = events->empty() ? std::string(": idle\n\n") : *events;
          return sink.write(text.data(), text.size());
        },
        [this](bool) { state_->stream_closed(); });
  });
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
  } else if (http_->bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  }
  if (port_ <= 0) {
    throw Error(fmt::format("race page: cannot listen on {}:{} (port in use, or not an address of this machine)",
                            options_.host, options_.port));
  }
  thread_ = std::thread([this] {
    http_->listen_after_bind();
    listen_returned_.store(true);
  });
  // cpp-httplib's stop() does nothing before the listening loop runs (which would then run for ever).
  while (!http_->is_running() && !listen_returned_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

RaceWebServer::~RaceWebServer() { stop(); }

std::string RaceWebServer::url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/", v6 ? "[" : "", options_.host, v6 ? "]" : "", port_);
}

void RaceWebServer::on_ranking(const LeaderboardView& view) { state_->update(view); }

void RaceWebServer::on_race_over(const LeaderboardView& final_view, const RaceTrace* trace) {
  state_->finish(final_view);
  if (trace == nullptr) return;
  traces_.push_back(*trace);
  // The same choice as the report's chart, over the races so far: it only changes when another race surged more.
  const std::optional<LateSurgeChart> chart = late_surge_chart(traces_);
  if (!chart || traces_[chart->surge.trace_index].race_id == chart_race_) return;
  chart_race_ = traces_[chart->surge.trace_index].race_id;
  state_->set_chart(chart->svg);
}

void RaceWebServer::on_progress(const DemoProgress& progress) { state_->set_progress(progress); }

void RaceWebServer::finish(std::chrono::milliseconds drain) {
  state_->set_done();
  state_->wait_streams_closed(drain);
}

void RaceWebServer::stop() {
  state_->close();
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace streamml::demo
