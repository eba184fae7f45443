// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Consumer commits under injected OffsetCommit errors (embedded cluster only):
// a failed asynchronous commit is reported in the log (it has no other way to
// surface), and a synchronous one returns the error.
#include <gtest/gtest.h>

#include <chrono>

#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "support/fault_support.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using namespace std::chrono_literals;
using streamml::testing::TestKafka;

TEST(KafkaCommitFault, FailedAsynchronousCommitIsLogged) {
  EmbeddedCluster* cluster = TestKafka::get().embedded();
  if (cluster == nullptr) GTEST_SKIP() << "fault hooks need the embedded cluster (STREAMML_TEST_BOOTSTRAP is set)";
  const std::string topic = TestKafka::get().create_topic("commit-fault", 1);
  {
    Producer producer(TestKafka::get().config());
    ProduceRecord r;
    r.topic = topic;
    r.partition = 0;
    r.value = "x";
    ASSERT_TRUE(producer.produce(r).ok());
    ASSERT_TRUE(producer.flush().ok());
  }
  Config config = TestKafka::get().consumer_config();
  config.set("group.id", TestKafka::get().unique_name("commit-fault"));
  Consumer consumer(config);
  consumer.assign({{topic, 0, 0}});
  ASSERT_FALSE(consumer.commit({{topic, 0, 0}}, /*async=*/false)) << "a first commit finds the coordinator";
  streamml::testing::LogCapture logs;
  streamml::testing::FaultInjector faults(cluster);
  // More errors than librdkafka's own retries of the request absorb.
  const std::vector<int> errors(5, streamml::testing::kErrRequestTimedOut);
  cluster->push_request_errors(ApiKey::kOffsetCommit, errors);
  EXPECT_FALSE(consumer.commit({{topic, 0, 1}}, /*async=*/true)) << "an asynchronous commit returns at once";
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (logs.text().find("offset commit failed") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    consumer.poll_batch(10, 100ms);
  }
  EXPECT_NE(logs.text().find("offset commit failed"), std::string::npos) << logs.text();
  EXPECT_NE(logs.text().find(topic + ":0 at 1"), std::string::npos) << logs.text();
  // A synchronous commit returns its error, as retriable.
  cluster->clear_request_errors(ApiKey::kOffsetCommit);
  cluster->push_request_errors(ApiKey::kOffsetCommit, errors);
  KafkaError err = consumer.commit({{topic, 0, 2}}, /*async=*/false);
  EXPECT_TRUE(err) << "the injected errors outlast librdkafka's retries";
  EXPECT_TRUE(err.is_retriable()) << err.message();
  cluster->clear_request_errors(ApiKey::kOffsetCommit);
  EXPECT_FALSE(consumer.commit({{topic, 0, 2}}, /*async=*/false)) << "the next commit goes through";
  EXPECT_EQ(consumer.committed({{topic, 0}}).at(0).offset, 2);
}

}  // namespace
}  // namespace streamml::kafka
