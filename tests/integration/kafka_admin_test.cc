// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Admin: create, list, describe; errors name the topic. The embedded
// cluster's control socket lets other processes create topics.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

const TopicInfo* find_topic(const std::vector<TopicInfo>& topics, const std::string& name) {
  auto it = std::find_if(topics.begin(), topics.end(), [&](const TopicInfo& t) { return t.name == name; });
  return it == topics.end() ? nullptr : &*it;
}

TEST(KafkaAdminTest, CreateListDescribe) {
  Admin admin(TestKafka::get().config());
  const std::string name = TestKafka::get().unique_name("admin");
  EXPECT_FALSE(admin.topic_exists(name));
  admin.create_topics({NewTopic{name, 5, 1, {}}});
  admin.wait_for_topic(name);
  EXPECT_TRUE(admin.topic_exists(name));

  std::vector<TopicInfo> topics = admin.list_topics();
  EXPECT_TRUE(std::is_sorted(topics.begin(), topics.end(),
                             [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; }));
  const TopicInfo* listed = find_topic(topics, name);
  ASSERT_NE(listed, nullptr);
  EXPECT_EQ(listed->partitions.size(), 5u);
  for (const auto& t : topics) EXPECT_NE(t.name.rfind("__", 0), 0u) << "internal topic listed: " << t.name;

  {
    Producer producer(TestKafka::get().config());
    for (int i = 0; i < 3; ++i) {
      ProduceRecord r;
      r.topic = name;
      r.partition = 2;
      r.value = "x";
      ASSERT_TRUE(producer.produce(r).ok());
    }
    ASSERT_TRUE(producer.flush().ok());
  }
  TopicInfo info = admin.describe_topic(name);
  EXPECT_EQ(info.name, name);
  ASSERT_EQ(info.partitions.size(), 5u);
  std::vector<BrokerInfo> brokers = admin.brokers();
  ASSERT_FALSE(brokers.empty());
  for (int p = 0; p < 5; ++p) {
    const PartitionInfo& part = info.partitions[p];
    EXPECT_EQ(part.id, p);
    EXPECT_TRUE(std::any_of(brokers.begin(), brokers.end(), [&](const BrokerInfo& b) { return b.id == part.leader; }))
        << "partition " << p << " leader " << part.leader << " is not a known broker";
    // (The embedded cluster places every partition on all brokers whatever
    // the replication factor asked; a real broker honours it.)
    ASSERT_FALSE(part.replicas.empty());
    EXPECT_NE(std::find(part.replicas.begin(), part.replicas.end(), part.leader), part.replicas.end());
    if (TestKafka::get().external()) {
      EXPECT_EQ(part.replicas.size(), 1u);
    }
    EXPECT_EQ(part.watermarks.low, 0);
    EXPECT_EQ(part.watermarks.high, p == 2 ? 3 : 0) << "partition " << p;
  }
}

TEST(KafkaAdminTest, BrokersOfTheEmbeddedCluster) {
  if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "checks the embedded cluster's shape";
  Admin admin(TestKafka::get().config());
  std::vector<BrokerInfo> brokers = admin.brokers();
  ASSERT_EQ(brokers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(brokers[i].id, i + 1);
    EXPECT_EQ(brokers[i].host, "127.0.0.1");
    EXPECT_GT(brokers[i].port, 0);
  }
  EXPECT_TRUE(EmbeddedCluster::is_embedded(TestKafka::get().bootstrap()));
  EXPECT_EQ(EmbeddedCluster::find_in_process(brokers[1].host + ":" + std::to_string(brokers[1].port)),
            TestKafka::get().embedded());
  EXPECT_EQ(EmbeddedCluster::find_in_process("localhost:" + std::to_string(brokers[0].port)),
            TestKafka::get().embedded());
}

TEST(KafkaAdminTest, CreatingAnExistingTopicNamesIt) {
  const std::string name = TestKafka::get().create_topic("exists", 1);
  Admin admin(TestKafka::get().config());
  try {
    admin.create_topics({NewTopic{name, 1, 1, {}}});
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(KafkaAdminTest, InvalidPartitionCountIsAConfigErrorNamingTheTopic) {
  Admin admin(TestKafka::get().config());
  const std::string name = TestKafka::get().unique_name("zero");
  try {
    admin.create_topics({NewTopic{name, 0, 1, {}}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
  EXPECT_FALSE(admin.topic_exists(name));
}

TEST(KafkaAdminTest, DescribingAMissingTopicNamesIt) {
  Admin admin(TestKafka::get().config());
  const std::string name = TestKafka::get().unique_name("nosuch");
  try {
    admin.describe_topic(name);
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find("'" + name + "' does not exist"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(admin.topic_exists(name)) << "describing must not auto-create the topic";
}

TEST(KafkaAdminTest, AdminNeedsBootstrapServers) {
  try {
    Admin admin(Config{{"client.id", "x"}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bootstrap.servers"), std::string::npos) << e.what();
  }
}

TEST(KafkaAdminTest, UnreachableClusterFailsWithinTheTimeoutNamingTheAddress) {
  Admin admin(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"log_level", "0"}});
  try {
    admin.list_topics(milliseconds(500));
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
}

// Signals sent to the process while an embedded cluster runs (SIGCHLD from
// exiting child processes, as PyTorch's DataLoader workers send) do not
// stop it: librdkafka's mock ends its poll loop on EINTR, so its thread must
// not take them. This thread blocks SIGUSR1 while sending, so the kernel
// hands each to another thread that takes it: before the fix, the mock's
// (which logged "Mock cluster failed to poll ... Interrupted system call").
TEST(EmbeddedClusterSignals, SignalsToTheProcessLeaveTheClusterServing) {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: an interrupted poll() fails with EINTR
  struct sigaction previous_action {};
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous_action), 0);
  EmbeddedCluster cluster(EmbeddedClusterOptions{});
  sigset_t usr1, previous_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &previous_mask);
  for (int i = 0; i < 200; ++i) {
    kill(getpid(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // No thread took them: the last one is still pending for the process.
  sigset_t pending;
  sigpending(&pending);
  EXPECT_TRUE(sigismember(&pending, SIGUSR1)) << "a thread of the cluster took SIGUSR1";
  Admin admin(Config{{"bootstrap.servers", cluster.bootstrap_servers()}});
  admin.create_topics({NewTopic{"after-signals", 1, 1, {}}});
  admin.wait_for_topic("after-signals");
  EXPECT_TRUE(admin.topic_exists("after-signals"));
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);  // the pending one reaches the handler
  sigaction(SIGUSR1, &previous_action, nullptr);
}

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmbeddedClusterOptions options;
    options.brokers = 2;
    options.publish_control_socket = true;
    cluster_ = std::make_unique<EmbeddedCluster>(options);
    Config config{{"bootstrap.servers", cluster_->bootstrap_servers()}};
    admin_ = std::make_unique<Admin>(config);
  }
  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    std::string s = cluster_->bootstrap_servers();
    size_t start = 0;
    while (start < s.size()) {
      size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      out.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(ControlSocketTest, EveryBrokerAddressFindsTheSocket) {
  const std::string path = cluster_->control_socket_path();
  ASSERT_FALSE(path.empty());
  auto addrs = addresses();
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_EQ(EmbeddedCluster::find_control_socket(addrs[0]), path);
  EXPECT_FALSE(EmbeddedCluster::find_control_socket(addrs[1]).empty());
  std::string port = addrs[0].substr(addrs[0].rfind(':') + 1);
  EXPECT_EQ(EmbeddedCluster::find_control_socket("localhost:" + port), path);
  EXPECT_TRUE(EmbeddedCluster::is_embedded(cluster_->bootstrap_servers()));
}

TEST_F(ControlSocketTest, NoSocketForOtherAddresses) {
  EXPECT_EQ(EmbeddedCluster::find_control_socket("10.1.2.3:9092"), "");
  EXPECT_EQ(EmbeddedCluster::find_control_socket("127.0.0.1:1"), "");
  EXPECT_EQ(EmbeddedCluster::find_control_socket("no-port"), "");
  EXPECT_FALSE(EmbeddedCluster::is_embedded("127.0.0.1:1"));
  // The test cluster publishes its own socket, a different one.
  if (TestKafka::get().embedded() != nullptr) {
    std::string other = EmbeddedCluster::find_control_socket(
        TestKafka::get().bootstrap().substr(0, TestKafka::get().bootstrap().find(',')));
    EXPECT_EQ(other, TestKafka::get().embedded()->control_socket_path());
    EXPECT_NE(other, cluster_->control_socket_path());
  }
}

TEST_F(ControlSocketTest, CreateTopicThroughTheSocket) {
  const std::string name = TestKafka::get().unique_name("socket");
  EmbeddedCluster::create_topic_via_socket(cluster_->control_socket_path(), name, 3, 2);
  admin_->wait_for_topic(name);
  TopicInfo info = admin_->describe_topic(name);
  ASSERT_EQ(info.partitions.size(), 3u);
  for (const auto& p : info.partitions) EXPECT_EQ(p.replicas.size(), 2u);
}

TEST_F(ControlSocketTest, SocketErrorsCarryTheClustersAnswer) {
  const std::string path = cluster_->control_socket_path();
  const std::string name = TestKafka::get().unique_name("bad");
  try {
    EmbeddedCluster::create_topic_via_socket(path, name, 0, 1);
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find("topic '" + name + "': partitions must be at least 1"), std::string::npos)
        << e.what();
  }
  try {
    EmbeddedCluster::create_topic_via_socket(path, name, 1, 5);
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find("replication factor 5"), std::string::npos) << e.what();
  }
  try {
    EmbeddedCluster::create_topic_via_socket(path + ".missing", name, 1, 1);
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find(path + ".missing"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(admin_->topic_exists(name));
}

TEST_F(ControlSocketTest, AnotherProcessCreatesTopicsThroughTheSocket) {
  // The CLI runs in a child process: it cannot see this cluster in-process and
  // must use the control socket (CreateTopics is not implemented by the mock).
  const std::string name = TestKafka::get().unique_name("cli-socket");
  auto result = streamml::testing::run_command_capture(
      streamml::testing::shell_quote(streamml::testing::cli_path()) + " topics create -b " +
      streamml::testing::shell_quote(addresses()[1]) + " -p 4 " + name);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("created " + name + " (4 partition(s)"), std::string::npos) << result.out;
  TopicInfo info = admin_->describe_topic(name);
  EXPECT_EQ(info.partitions.size(), 4u);
}

TEST_F(ControlSocketTest, SocketDisappearsWithTheCluster) {
  const std::string address = addresses()[0];
  const std::string path = cluster_->control_socket_path();
  admin_.reset();
  cluster_.reset();
  EXPECT_EQ(EmbeddedCluster::find_control_socket(address), "");
  EXPECT_FALSE(EmbeddedCluster::is_embedded(address));
  EXPECT_EQ(EmbeddedCluster::find_in_process(address), nullptr);
}

}  // namespace
}  // namespace streamml::kafka
