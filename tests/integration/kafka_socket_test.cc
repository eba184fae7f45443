// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// TCP_NODELAY on every connection to the broker: streamml's clients disable
// Nagle's algorithm unless told otherwise, and the embedded cluster's brokers
// accept connections with it disabled too. With Nagle on, a small request or
// response written while an earlier one is unacknowledged waits for the
// peer's delayed ACK (40 ms on Linux), which showed up as a ~45 ms tail on
// serve's end-to-end latency.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "streamml/kafka/consumer.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

struct TcpSocket {
  int local_port = 0;
  int peer_port = 0;
  bool listening = false;
  bool nodelay = false;
};

int port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

// Every TCP socket of this process.
std::vector<TcpSocket> tcp_sockets() {
  std::vector<TcpSocket> out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (dirent* entry = ::readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == ::dirfd(dir)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) continue;
    if (local.ss_family != AF_INET && local.ss_family != AF_INET6) continue;
    int type = 0;
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    TcpSocket s;
    s.local_port = port_of(local);
    len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) s.peer_port = port_of(peer);
    int value = 0;
    len = sizeof value;
    s.listening = ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) == 0 && value != 0;
    len = sizeof value;
    s.nodelay = ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &len) == 0 && value != 0;
    out.push_back(s);
  }
  ::closedir(dir);
  return out;
}

int port_of_address(const std::string& address) { return std::atoi(address.substr(address.rfind(':') + 1).c_str()); }

std::vector<int> broker_ports() {
  std::vector<int> ports;
  std::string servers = TestKafka::get().bootstrap();
  size_t start = 0;
  while (start <= servers.size()) {
    const size_t comma = std::min(servers.find(',', start), servers.size());
    if (comma > start) ports.push_back(port_of_address(servers.substr(start, comma - start)));
    start = comma + 1;
  }
  return ports;
}

bool is_broker_port(int port) {
  for (int p : broker_ports()) {
    if (p == port) return true;
  }
  return false;
}

// Produces one record and waits for it, so the producer is connected.
void produce_one(Producer& producer, const std::string& topic) {
  ProduceRecord record;
  record.topic = topic;
  record.value = std::string_view("x");
  ASSERT_FALSE(producer.produce(record));
  ASSERT_TRUE(producer.flush(std::chrono::seconds(30)).ok());
}

TEST(KafkaSocketTest, ClientConnectionsHaveNagleDisabledByDefault) {
  const std::string topic = TestKafka::get().create_topic("nodelay", 1);
  Producer producer(TestKafka::get().config());
  ASSERT_NO_FATAL_FAILURE(produce_one(producer, topic));
  Consumer consumer(TestKafka::get().consumer_config());
  consumer.assign({{topic, 0, kOffsetBeginning}});
  ASSERT_FALSE(consumer.poll(std::chrono::seconds(30)).empty());

  int client_connections = 0;
  for (const TcpSocket& s : tcp_sockets()) {
    if (s.listening || !is_broker_port(s.peer_port)) continue;  // only client ends of broker connections
    ++client_connections;
    EXPECT_TRUE(s.nodelay) << "client socket from port " << s.local_port << " to broker port " << s.peer_port
                           << " has Nagle's algorithm on";
  }
  EXPECT_GE(client_connections, 2);  // at least the producer's and the consumer's
}

TEST(KafkaSocketTest, NagleStaysOnWhenTheConfigAsksForIt) {
  const std::string topic = TestKafka::get().create_topic("nagle", 1);
  std::vector<TcpSocket> before = tcp_sockets();
  Config config = TestKafka::get().config();
  config.set("socket.nagle.disable", "false");
  Producer producer(config);
  ASSERT_NO_FATAL_FAILURE(produce_one(producer, topic));
  int with_nagle = 0;
  for (const TcpSocket& s : tcp_sockets()) {
    if (s.listening || !is_broker_port(s.peer_port)) continue;
    bool existed = false;
    for (const TcpSocket& b : before) existed = existed || (b.local_port == s.local_port && b.peer_port == s.peer_port);
    if (!existed && !s.nodelay) ++with_nagle;
  }
  EXPECT_GE(with_nagle, 1) << "the producer's connections ignored socket.nagle.disable=false";
}

TEST(KafkaSocketTest, EmbeddedBrokersAcceptConnectionsWithNagleDisabled) {
  if (TestKafka::get().external()) GTEST_SKIP() << "the broker's sockets belong to the external broker";
  const std::string topic = TestKafka::get().create_topic("nodelay-broker", 1);
  // Nagle on at the client end, so that only the broker end can be the one
  // with TCP_NODELAY.
  Config config = TestKafka::get().config();
  config.set("socket.nagle.disable", "false");
  Producer producer(config);
  ASSERT_NO_FATAL_FAILURE(produce_one(producer, topic));

  int listeners = 0, accepted = 0;
  for (const TcpSocket& s : tcp_sockets()) {
    if (!is_broker_port(s.local_port)) continue;  // broker ends: listeners and accepted connections
    if (s.listening) {
      ++listeners;
    } else {
      ++accepted;
    }
    EXPECT_TRUE(s.nodelay) << (s.listening ? "listener" : "accepted connection") << " on broker port "
                           << s.local_port << " (peer port " << s.peer_port << ") has Nagle's algorithm on";
  }
  EXPECT_EQ(listeners, static_cast<int>(broker_ports().size()));
  EXPECT_GE(accepted, 1);
}

TEST(KafkaSocketTest, ABrokerBackUpAfterAnOutageStillListensWithNagleDisabled) {
  // Its own cluster: the shared one must not lose a broker under other tests.
  EmbeddedCluster cluster;
  const int port = port_of_address(cluster.bootstrap_servers());
  cluster.broker_down(1);
  cluster.broker_up(1);
  int listeners = 0;
  for (const TcpSocket& s : tcp_sockets()) {
    if (!s.listening || s.local_port != port) continue;
    ++listeners;
    EXPECT_TRUE(s.nodelay) << "the restarted broker's listener on port " << port << " has Nagle's algorithm on";
  }
  EXPECT_EQ(listeners, 1);
}

}  // namespace
}  // namespace streamml::kafka
