// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers of the LibTorch-free serving-loop tests (integration_serve_core):
// a polling wait and a serve::Server run on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "streamml/serve/server.h"

namespace streamml::testing {

// Polls `condition` every 20 ms until it holds or `timeout` passed; returns
// its last value.
inline bool wait_for(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// A Server running on its own thread; stopped and joined on destruction.
class ServingThread {
 public:
  ServingThread(serve::ServerOptions options, serve::ProcessorFactory factory) : server_(std::move(options), std::move(factory)) {
    thread_ = std::thread([this] {
      try {
        server_.run();
      } catch (const std::exception& e) {
        error_ = e.what();
      }
      finished_ = true;
    });
  }
  ~ServingThread() { stop(); }
  ServingThread(const ServingThread&) = delete;
  ServingThread& operator=(const ServingThread&) = delete;

  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  serve::Server& server() { return server_; }
  // run() returned or threw.
  bool finished() const { return finished_; }
  // What run() threw ("" if nothing); read it only after finished() or stop().
  const std::string& error() const { return error_; }

 private:
  serve::Server server_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::string error_;
};

}  // namespace streamml::testing
