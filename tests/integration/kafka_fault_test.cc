// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Robustness under broker faults (embedded cluster only): a leader that goes
// away for a while, injected transient errors, a leader that moves. Every
// record must be delivered exactly once (idempotent producer), in order; a
// permanent error must be reported, never dropped silently.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

constexpr int kNotLeaderForPartition = 6;
constexpr int kRequestTimedOut = 7;
constexpr int kTopicAuthorizationFailed = 29;

class KafkaFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = TestKafka::get().embedded();
    if (cluster_ == nullptr) GTEST_SKIP() << "fault hooks need the embedded cluster (STREAMML_TEST_BOOTSTRAP is set)";
  }
  void TearDown() override {
    if (cluster_ == nullptr) return;
    cluster_->clear_request_errors(ApiKey::kProduce);
    for (int32_t id : cluster_->broker_ids()) cluster_->broker_up(id);
  }

  // Produces "v<i>" for i in [0, count) to partition 0, pausing `pause` every
  // 10 records; calls `midway` once after `midway_at` records.
  void produce_sequence(Producer& producer, const std::string& topic, int count, milliseconds pause,
                        int midway_at = -1, const std::function<void()>& midway = {}) {
    for (int i = 0; i < count; ++i) {
      if (i == midway_at && midway) midway();
      std::string value = "v" + std::to_string(i);
      ProduceRecord r;
      r.topic = topic;
      r.partition = 0;
      r.value = value;
      r.opaque = static_cast<uint64_t>(i);
      ASSERT_TRUE(producer.produce(r).ok()) << "record " << i;
      if (i % 10 == 9 && pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }

  // Reads partition 0 back and checks it holds exactly v0..v<count-1> in order.
  void expect_exactly_once(const std::string& topic, int count) {
    Watermarks w = streamml::testing::watermarks(topic, 0);
    EXPECT_EQ(w.low, 0);
    EXPECT_EQ(w.high, count) << (w.high > count ? "duplicates were written" : "records are missing");
    auto records = streamml::testing::read_range(topic, 0, 0, w.high);
    ASSERT_EQ(records.size(), static_cast<size_t>(w.high));
    for (int i = 0; i < static_cast<int>(records.size()) && i < count; ++i) {
      ASSERT_EQ(records[i].value, "v" + std::to_string(i)) << "at offset " << i;
    }
  }

  EmbeddedCluster* cluster_ = nullptr;
};

TEST_F(KafkaFaultTest, LeaderDownForTwoSecondsDuringProduce) {
  constexpr int kCount = 3000;
  const std::string topic = TestKafka::get().create_topic("down", 1);
  const int32_t leader = streamml::testing::leader_of(topic, 0);
  ASSERT_GE(leader, 1);

  std::atomic<int64_t> errors{0};
  Config config = TestKafka::get().config();
  config.set("reconnect.backoff.max.ms", "500");
  Producer producer(config, [&](const DeliveryReport& r) {
    if (!r.error.ok()) errors.fetch_add(1);
  });
  producer.start_poll_thread();

  std::thread faults;
  produce_sequence(producer, topic, kCount, milliseconds(10), kCount / 4, [&] {
    faults = std::thread([&] {
      cluster_->broker_down(leader);
      std::this_thread::sleep_for(std::chrono::seconds(2));
      cluster_->broker_up(leader);
    });
  });
  faults.join();
  FlushResult flushed = producer.flush(std::chrono::seconds(60));
  EXPECT_EQ(flushed.still_queued, 0);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(producer.delivered_count(), kCount);
  producer.close();
  expect_exactly_once(topic, kCount);
}

TEST_F(KafkaFaultTest, TransientProduceErrorsAreRetriedWithoutDuplicates) {
  constexpr int kCount = 1000;
  const std::string topic = TestKafka::get().create_topic("transient", 1);
  Producer producer(TestKafka::get().config());
  // Let the producer get its id and first batch through, then inject.
  produce_sequence(producer, topic, 1, milliseconds(0));
  ASSERT_TRUE(producer.flush().ok());
  cluster_->push_request_errors(ApiKey::kProduce, {kNotLeaderForPartition, kRequestTimedOut, kNotLeaderForPartition,
                                                   kRequestTimedOut, kRequestTimedOut});
  for (int i = 1; i < kCount; ++i) {
    std::string value = "v" + std::to_string(i);
    ProduceRecord r;
    r.topic = topic;
    r.partition = 0;
    r.value = value;
    ASSERT_TRUE(producer.produce(r).ok());
    if (i % 100 == 0) producer.poll(milliseconds(5));
  }
  FlushResult flushed = producer.flush(std::chrono::seconds(60));
  EXPECT_TRUE(flushed.ok()) << flushed.still_queued << " queued, " << flushed.failed << " failed";
  EXPECT_EQ(producer.delivered_count(), kCount);
  producer.close();
  expect_exactly_once(topic, kCount);
}

TEST_F(KafkaFaultTest, PermanentProduceErrorIsReportedNotDropped) {
  const std::string topic = TestKafka::get().create_topic("permanent", 1);
  std::mutex mu;
  std::vector<DeliveryReport> reports;
  Config config = TestKafka::get().config();
  config.set("enable.idempotence", "false");
  config.set("retries", "0");
  Producer producer(config, [&](const DeliveryReport& r) {
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(r);
  });
  // Warm up metadata and the connection so the error hits our record.
  produce_sequence(producer, topic, 1, milliseconds(0));
  ASSERT_TRUE(producer.flush().ok());
  cluster_->push_request_errors(ApiKey::kProduce, {kTopicAuthorizationFailed});
  ProduceRecord r;
  r.topic = topic;
  r.partition = 0;
  r.value = "rejected";
  r.opaque = 42;
  ASSERT_TRUE(producer.produce(r).ok());
  FlushResult flushed = producer.flush(std::chrono::seconds(30));
  EXPECT_EQ(flushed.still_queued, 0);
  EXPECT_EQ(flushed.failed, 1);
  EXPECT_FALSE(flushed.ok());
  EXPECT_EQ(producer.failed_count(), 1);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_TRUE(reports[0].error.ok());
  EXPECT_EQ(reports[1].opaque, 42u);
  EXPECT_EQ(reports[1].error.code(), kTopicAuthorizationFailed) << reports[1].error.message();
  EXPECT_FALSE(reports[1].error.is_retriable());
  EXPECT_EQ(streamml::testing::watermarks(topic, 0).high, 1) << "the rejected record must not be in the log";
}

TEST_F(KafkaFaultTest, LeaderMovesMidProduce) {
  constexpr int kCount = 2000;
  const std::string topic = TestKafka::get().create_topic("moved", 1);
  const int32_t leader = streamml::testing::leader_of(topic, 0);
  const int32_t next_leader = leader % cluster_->num_brokers() + 1;
  ASSERT_NE(leader, next_leader);

  Producer producer(TestKafka::get().config());
  producer.start_poll_thread();
  produce_sequence(producer, topic, kCount, milliseconds(5), kCount / 2,
                   [&] { cluster_->set_partition_leader(topic, 0, next_leader); });
  FlushResult flushed = producer.flush(std::chrono::seconds(60));
  EXPECT_TRUE(flushed.ok()) << flushed.still_queued << " queued, " << flushed.failed << " failed";
  EXPECT_EQ(producer.delivered_count(), kCount);
  producer.close();
  EXPECT_EQ(streamml::testing::leader_of(topic, 0), next_leader);
  expect_exactly_once(topic, kCount);
}

// A transactional commit that times out (here: every broker answers 2 s late)
// fails with a retriable TransactionError, and calling commit_transaction()
// again resumes it: serve's exactly-once loop calls again instead of aborting,
// which librdkafka refuses while the commit is in progress.
TEST_F(KafkaFaultTest, ATransactionCommitThatTimesOutIsRetriableAndResumesWhenCalledAgain) {
  const std::string topic = TestKafka::get().create_topic("txn-slow", 1);
  Config config = TestKafka::get().config();
  config.set("transactional.id", TestKafka::get().unique_name("txn-slow"));
  Producer producer(config);
  producer.init_transactions();
  producer.begin_transaction();
  ProduceRecord r;
  r.topic = topic;
  r.partition = 0;
  r.value = "v0";
  ASSERT_TRUE(producer.produce(r).ok());

  for (int32_t id : cluster_->broker_ids()) cluster_->set_round_trip_time(id, milliseconds(2000));
  try {
    producer.commit_transaction(milliseconds(200));
    ADD_FAILURE() << "the commit did not time out";
  } catch (const TransactionError& e) {
    EXPECT_TRUE(e.retriable()) << e.what();
    EXPECT_FALSE(e.requires_abort()) << e.what();
    EXPECT_FALSE(e.fatal()) << e.what();
    EXPECT_NE(std::string(e.what()).find("commit_transaction"), std::string::npos) << e.what();
  }
  for (int32_t id : cluster_->broker_ids()) cluster_->set_round_trip_time(id, milliseconds(0));

  EXPECT_NO_THROW(producer.commit_transaction(std::chrono::seconds(30)));
  // Committed: the producer is ready for the next transaction.
  EXPECT_NO_THROW(producer.begin_transaction());
  EXPECT_NO_THROW(producer.abort_transaction());
  auto records = streamml::testing::read_range(topic, 0, 0, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "v0");
}

}  // namespace
}  // namespace streamml::kafka
