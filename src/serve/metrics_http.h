// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// MetricsHttpServer: the HTTP endpoint of a serving process. GET (or HEAD)
// /metrics answers the Prometheus text exposition, /healthz answers 200 "ok"
// while healthy and 503 "starting" before; other methods get 405.
//
// Thread-safety: the handlers run on the server's own threads, so
// `metrics_text` and `healthy` must be safe to call from any thread. The
// object itself is owned by one thread (construct, stop, destroy).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}  // namespace httplib

namespace streamml::serve {

class MetricsHttpServer {
 public:
  // Binds host:port and serves on a thread of its own until stop(). Throws
  // streamml::Error saying why it cannot bind ("metrics port P is already in
  // use", an unresolvable host, ...).
  MetricsHttpServer(const std::string& host, int port, std::function<std::string()> metrics_text,
                    std::function<bool()> healthy);
  ~MetricsHttpServer();  // stop()
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Stops listening and joins the server's thread. Idempotent.
  void stop();

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

}  // namespace streamml::serve
