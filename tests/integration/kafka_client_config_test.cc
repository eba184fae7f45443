// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// What the Kafka layer adds to or removes from a client's configuration:
// no property of the other client kind (no librdkafka CONFWARN).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "streamml/kafka/admin.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "support/fault_support.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

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

}  // namespace
}  // namespace streamml::kafka
