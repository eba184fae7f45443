// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve's metrics HTTP server (issue 13, items 4, 5 and 32): /healthz says
// 503 until the group assigned partitions, a second server on the same port
// fails at start naming the port, a POST is answered 405 at once, and idle
// connections do not keep health checks waiting.
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
#include "serve_core_support.h"
#include "support/free_port.h"
#include "support/test_kafka.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::ServingThread;
using testing::TestKafka;
using testing::wait_for;

class EchoProcessor : public Processor {
 public:
  std::string decoder_spec() const override { return ""; }
  void process(const data::Batch& batch, std::vector<ProcessResult>& results) override {
    for (size_t i = 0; i < batch.size; ++i) results.push_back({OutputRecord{std::nullopt, batch.payloads[i], {}}, ""});
  }
  std::string version() const override { return "v1"; }
};

std::unique_ptr<Processor> echo() { return std::make_unique<EchoProcessor>(); }

// A TCP connection to 127.0.0.1:port (-1 on failure); the caller closes it.
int connect_to(int port, std::chrono::seconds receive_timeout = 30s) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(sock);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = receive_timeout.count();
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return sock;
}

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
  const int port = testing::free_port();
  ServingThread serving(options("serve-health", port), echo);
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

TEST(ServeHttp, ASecondServerOnTheSameMetricsPortFailsAtStartNamingThePort) {
  const int port = testing::free_port();
  ServingThread first(options("serve-port-a", port), echo);
  ASSERT_TRUE(wait_for([&] { return first.server().metrics_port() == port || first.finished(); }, 60s));
  ASSERT_FALSE(first.finished()) << first.error();
  ServingThread second(options("serve-port-b", port), echo);
  const bool failed = wait_for([&] { return second.finished(); }, 60s);
  second.stop();
  EXPECT_TRUE(failed) << "the second server started on port " << port;
  EXPECT_NE(second.error().find("metrics port " + std::to_string(port) + " is already in use"), std::string::npos)
      << second.error();
  EXPECT_FALSE(first.finished()) << first.error();
}

TEST(ServeHttp, APostWithoutBodyGets405AtOnce) {
  const int port = testing::free_port();
  ServingThread serving(options("serve-post", port), echo);
  ASSERT_TRUE(wait_for([&] { return serving.server().metrics_port() == port || serving.finished(); }, 60s));
  const int sock = connect_to(port);
  ASSERT_GE(sock, 0);
  const std::string request = "POST /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::send(sock, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  char buf[512] = {};
  const ssize_t n = ::recv(sock, buf, sizeof(buf) - 1, 0);  // the 30 s receive timeout guards a hang
  ::close(sock);
  ASSERT_GT(n, 0) << "no answer to a POST without a body";
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 405", 0), 0u) << buf;
}

TEST(ServeHttp, HealthzAnswersWhileSixteenIdleConnectionsAreOpen) {
  const int port = testing::free_port();
  ServingThread serving(options("serve-idle", port), echo);
  ASSERT_TRUE(wait_for([&] { return serving.server().metrics_port() == port || serving.finished(); }, 60s));
  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) {
    const int sock = connect_to(port);
    ASSERT_GE(sock, 0);
    idle.push_back(sock);
  }
  std::this_thread::sleep_for(100ms);  // let the server accept them
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(5);
  // cpp-httplib's default 8 threads each sat 5 s on an idle connection,
  // so this waited at least 10 s behind the 16 of them.
  http.set_read_timeout(8);  // under 10 s: main fails, a slow sanitizer run does not
  auto res = http.Get("/healthz");
  for (int sock : idle) ::close(sock);
  ASSERT_TRUE(res) << "/healthz did not answer while 16 idle connections were open";
  EXPECT_TRUE(res->status == 200 || res->status == 503) << res->status;
}

}  // namespace
}  // namespace streamml::serve
