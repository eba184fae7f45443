// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/metrics_http.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "streamml/common/error.h"

namespace streamml::serve {
namespace {

// The metrics server: scrapes and health checks are answered while idle
// clients hold connections (a health check must never queue behind them):
// more threads than cpp-httplib's default 8, and idle connections are
// dropped after kHttpIdleTimeout. Only GET and HEAD: anything else gets 405
// at once, without reading a body (a POST without Content-Length would
// otherwise be read until the client closes). SO_REUSEADDR only, not
// cpp-httplib's SO_REUSEPORT, so that a second process cannot bind the
// same port and share the scrapes.
constexpr size_t kHttpThreads = 32;
constexpr auto kHttpIdleTimeout = std::chrono::seconds(2);

void configure_metrics_http(httplib::Server& http) {
  http.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  http.set_read_timeout(kHttpIdleTimeout);
  http.set_write_timeout(kHttpIdleTimeout);
  http.set_keep_alive_timeout(kHttpIdleTimeout.count());
  http.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_header("Connection", "close");  // the body, if any, is not read
    res.set_content("method not allowed\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
}

// Why the metrics server could not bind host:port (cpp-httplib does not say).
std::string bind_failure(const std::string& host, int port) {
  int error = 0;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) {
    return "metrics host '" + host + "' cannot be resolved";
  }
  const int sock = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (sock < 0) {
    error = errno;
  } else {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(sock, found->ai_addr, found->ai_addrlen) != 0) error = errno;
    ::close(sock);
  }
  freeaddrinfo(found);
  if (error == EADDRINUSE) return "metrics port " + std::to_string(port) + " is already in use";
  return "cannot listen on " + host + ":" + std::to_string(port) + " for metrics" +
         (error != 0 ? std::string(": ") + std::strerror(error) : std::string());
}

}  // namespace

MetricsHttpServer::MetricsHttpServer(const std::string& host, int port, std::function<std::string()> metrics_text,
                                     std::function<bool()> healthy)
    : http_(std::make_unique<httplib::Server>()) {
  configure_metrics_http(*http_);
  http_->Get("/metrics", [metrics_text = std::move(metrics_text)](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
  http_->Get("/healthz", [healthy = std::move(healthy)](const httplib::Request&, httplib::Response& res) {
    const bool running = healthy();
    res.status = running ? 200 : 503;
    res.set_content(running ? "ok\n" : "starting\n", "text/plain");
  });
  if (!http_->bind_to_port(host.c_str(), port)) throw Error(bind_failure(host, port));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

void MetricsHttpServer::stop() {
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace streamml::serve
