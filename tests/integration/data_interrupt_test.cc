// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaDataset::interrupt(): a group dataset that waits for records (caught
// up, no stream timeout) returns from next() once interrupted, and commit()
// then covers only the records returned. Against the embedded cluster or
// STREAMML_TEST_BOOTSTRAP.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/consumer.h"
#include "support/test_kafka.h"

namespace streamml::data {
namespace {

using namespace std::chrono_literals;
using testing::TestKafka;

TEST(KafkaDatasetInterrupt, AWaitingGroupDatasetEndsWhenInterruptedAndCommitsWhatItReturned) {
  const std::string topic = TestKafka::get().create_topic("interrupt", 1);
  testing::produce_to(topic, 0, {"1,0", "2,1", "3,0"});
  KafkaDatasetOptions o;
  o.config = TestKafka::get().config();
  o.config.set("auto.offset.reset", "earliest");
  o.group = TestKafka::get().unique_name("interrupt-g");
  o.topics = {topic};
  o.decoder = "csv:names=x+y,label=y";
  o.batch_size = 100;
  o.batch_wait = std::chrono::milliseconds(50);  // stream_timeout -1: it would wait for ever
  KafkaDataset ds(o);
  std::optional<Batch> first = ds.next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size, 3u);

  // Caught up: next() waits for records that do not come, until interrupted
  // from another thread.
  auto waiting = std::async(std::launch::async, [&] { return ds.next(); });
  EXPECT_EQ(waiting.wait_for(1s), std::future_status::timeout) << "next() returned without a record";
  EXPECT_FALSE(ds.interrupted());
  ds.interrupt();
  ASSERT_EQ(waiting.wait_for(20s), std::future_status::ready) << "next() did not return after interrupt()";
  EXPECT_FALSE(waiting.get().has_value());
  EXPECT_TRUE(ds.interrupted());
  EXPECT_FALSE(ds.next().has_value()) << "an interrupted dataset stays ended";

  ds.commit();
  kafka::Config config = TestKafka::get().config();
  config.set("group.id", o.group);
  kafka::Consumer consumer(config);
  const auto committed = consumer.committed({{topic, 0}});
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(committed[0].offset, 3);
}

}  // namespace
}  // namespace streamml::data
