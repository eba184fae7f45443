// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// What the Kafka layer adds to or removes from a client's configuration:
// the Java client's partitioner by default, no property of the other client
// kind (no librdkafka CONFWARN), and the embedded cluster's bounds.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "support/fault_support.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

// org.apache.kafka.common.utils.Utils.murmur2, as the Java client hashes keys.
int32_t java_murmur2(const std::string& key) {
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const uint32_t length = static_cast<uint32_t>(key.size());
  const uint32_t m = 0x5bd1e995;
  uint32_t h = 0x9747b28c ^ length;
  for (uint32_t i = 0; i + 4 <= length; i += 4) {
    uint32_t k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (static_cast<uint32_t>(data[i + 3]) << 24);
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3: h ^= data[tail + 2] << 16; [[fallthrough]];
    case 2: h ^= data[tail + 1] << 8; [[fallthrough]];
    case 1: h ^= data[tail]; h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

// The Java client's DefaultPartitioner for a keyed record.
int32_t java_partition(const std::string& key, int32_t partitions) {
  return static_cast<int32_t>((static_cast<uint32_t>(java_murmur2(key)) & 0x7fffffffu) %
                              static_cast<uint32_t>(partitions));
}

TEST(KafkaClientConfigTest, TheTestsMurmur2MatchesJavasKnownValues) {
  // From the Java client's UtilsTest.testMurmur2.
  EXPECT_EQ(java_murmur2("21"), -973932308);
  EXPECT_EQ(java_murmur2("foobar"), -790332482);
  EXPECT_EQ(java_murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(java_murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(java_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(java_murmur2("abc"), 479470107);
}

TEST(KafkaClientConfigTest, KeyedRecordsLandWhereTheJavaClientPutsThem) {
  constexpr int32_t kPartitions = 6;
  const std::string topic = TestKafka::get().create_topic("java-partitioner", kPartitions);
  std::map<uint64_t, int32_t> landed;
  Producer producer(TestKafka::get().config(), [&](const DeliveryReport& r) {
    ASSERT_TRUE(r.error.ok()) << r.error.message();
    landed[r.opaque] = r.partition;
  });
  std::vector<std::string> keys;
  for (int i = 0; i < 24; ++i) keys.push_back("user-" + std::to_string(i * 7919));
  for (size_t i = 0; i < keys.size(); ++i) {
    ProduceRecord r;
    r.topic = topic;
    r.key = keys[i];
    r.value = "v";
    r.opaque = i;
    ASSERT_TRUE(producer.produce(r).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
  ASSERT_EQ(landed.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(landed[i], java_partition(keys[i], kPartitions)) << "key " << keys[i];
  }
}

TEST(KafkaClientConfigTest, PartitionerPropertyOverridesTheDefault) {
  constexpr int32_t kPartitions = 6;
  const std::string topic = TestKafka::get().create_topic("crc-partitioner", kPartitions);
  Config config = TestKafka::get().config();
  config.set("partitioner", "consistent");  // librdkafka's CRC32
  std::vector<int32_t> landed;
  Producer producer(config, [&](const DeliveryReport& r) { landed.push_back(r.partition); });
  int differing = 0;
  for (int i = 0; i < 24; ++i) {
    const std::string key = "user-" + std::to_string(i * 7919);
    ProduceRecord r;
    r.topic = topic;
    r.key = key;
    r.value = "v";
    ASSERT_TRUE(producer.produce(r).ok());
    ASSERT_TRUE(producer.flush().ok());
    ASSERT_EQ(landed.size(), static_cast<size_t>(i + 1));
    differing += landed.back() != java_partition(key, kPartitions);
  }
  EXPECT_GT(differing, 0) << "-X partitioner=consistent must hash with CRC32, not murmur2";
}

TEST(KafkaClientConfigTest, NoClientWarnsAboutPropertiesOfTheOtherKind) {
  const std::string topic = TestKafka::get().create_topic("confwarn", 1);
  // One config for a command's consumer and producers, as train --online and
  // serve build them.
  Config config = TestKafka::get().consumer_config();
  config.set("auto.offset.reset", "earliest");
  config.set("enable.auto.commit", "false");
  config.set("isolation.level", "read_committed");
  config.set("linger.ms", "1");
  config.set("acks", "all");
  streamml::testing::LogCapture logs;
  {
    Admin admin(config);
    admin.wait_for_topic(topic);
    Producer producer(config);
    ProduceRecord r;
    r.topic = topic;
    r.value = "x";
    ASSERT_TRUE(producer.produce(r).ok());
    ASSERT_TRUE(producer.flush().ok());
    Config consumer_config = config;
    consumer_config.set("group.id", TestKafka::get().unique_name("confwarn"));
    Consumer consumer(consumer_config);
    consumer.assign({{topic, 0, 0}});
    consumer.poll(milliseconds(100));
  }
  EXPECT_EQ(logs.text().find("CONFWARN"), std::string::npos) << logs.text();
}

TEST(KafkaClientConfigTest, EmbeddedClusterBoundsPartitionsAndKeepsWorking) {
  EmbeddedCluster cluster;
  try {
    cluster.create_topic("too-many", EmbeddedCluster::kMaxPartitions + 1);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("too-many"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(EmbeddedCluster::kMaxPartitions)), std::string::npos) << message;
  }
  EXPECT_THROW(cluster.create_topic("far-too-many", 100000000), ConfigError);
  cluster.create_topic("fine", EmbeddedCluster::kMaxPartitions);
  Admin admin(Config{{"bootstrap.servers", cluster.bootstrap_servers()}});
  size_t fine_partitions = 0;
  for (const auto& t : admin.list_topics()) {
    EXPECT_NE(t.name, "too-many");
    if (t.name == "fine") fine_partitions = t.partitions.size();
  }
  EXPECT_EQ(fine_partitions, static_cast<size_t>(EmbeddedCluster::kMaxPartitions));
}

}  // namespace
}  // namespace streamml::kafka
