// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve's metrics HTTP server: /healthz says 503 until the group assigned
// partitions.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "streamml/serve/server.h"
#include "support/test_kafka.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::TestKafka;

class EchoProcessor : public Processor {
 public:
  std::string decoder_spec() const override { return ""; }
  void process(const data::Batch& batch, std::vector<ProcessResult>& results) override {
    for (size_t i = 0; i < batch.size; ++i) results.push_back({OutputRecord{std::nullopt, batch.payloads[i], {}}, ""});
  }
  std::string version() const override { return "v1"; }
};

bool wait_for(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// A port nobody listens on now (the kernel's choice for port 0).
int free_port() {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(sock);
  return ntohs(addr.sin_port);
}

// A Server on its own thread; stopped and joined on destruction.
class Serving {
 public:
  explicit Serving(ServerOptions o) : server_(std::move(o), [] { return std::make_unique<EchoProcessor>(); }) {
    thread_ = std::thread([this] {
      try {
        server_.run();
      } catch (const std::exception& e) {
        error_ = e.what();
      }
      finished_ = true;
    });
  }
  ~Serving() { stop(); }
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  Server& server() { return server_; }
  bool finished() const { return finished_; }
  const std::string& error() const { return error_; }  // after finished() or stop()

 private:
  Server server_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::string error_;
};

ServerOptions options(const std::string& prefix, int port) {
  auto& kafka = TestKafka::get();
  ServerOptions o;
  o.input_topics = {kafka.create_topic(prefix + "-in", 2)};
  o.output_topic = kafka.create_topic(prefix + "-out", 2);
  o.group = kafka.unique_name(prefix + "-group");
  o.metrics_interval_ms = 0;
  o.metrics_port = port;
  o.metrics_host = "127.0.0.1";
  o.kafka = kafka.config();
  return o;
}

TEST(ServeHttp, HealthzIs503UntilTheGroupAssignedPartitions) {
  const int port = free_port();
  Serving serving(options("serve-health", port));
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(1);
  bool healthy = false;
  size_t assigned_when_healthy = 0;
  wait_for(
      [&] {
        auto res = http.Get("/healthz");
        if (!res) return serving.finished();
        if (res->status == 200) {
          healthy = true;
          assigned_when_healthy = serving.server().stats().assigned_partitions;
        }
        return healthy || serving.finished();
      },
      60s);
  serving.stop();
  EXPECT_EQ(serving.error(), "");
  ASSERT_TRUE(healthy) << "/healthz never said 200";
  EXPECT_EQ(assigned_when_healthy, 2u) << "/healthz said 200 before the partitions were assigned";
}

}  // namespace
}  // namespace streamml::serve
