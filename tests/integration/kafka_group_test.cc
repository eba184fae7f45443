// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Consumer groups: committed offsets survive the consumer, the same group
// resumes exactly after them, and a new group starts from the beginning.
// (Each group join costs seconds on the embedded cluster: keep these few.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "support/fault_support.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

void produce_values(const std::string& topic, const std::string& prefix, int count) {
  Producer producer(TestKafka::get().config());
  for (int i = 0; i < count; ++i) {
    std::string key = std::to_string(i);
    std::string value = prefix + std::to_string(i);
    ProduceRecord r;
    r.topic = topic;
    r.key = key;
    r.value = value;
    ASSERT_TRUE(producer.produce(r).ok());
  }
  FlushResult flushed = producer.flush();
  ASSERT_TRUE(flushed.ok()) << flushed.failed << " failed";
}

struct GroupRead {
  std::vector<std::string> values;
  std::vector<RebalanceEvent> events;
  std::set<int32_t> assigned;
};

// Joins `group`, reads until `want` records arrived, then keeps polling for a
// while to catch any extra record, commits what it read and leaves.
GroupRead read_as_group(const std::string& group, const std::string& topic, size_t want) {
  GroupRead out;
  Config config = TestKafka::get().consumer_config();
  config.set("group.id", group);
  config.set("auto.offset.reset", "earliest");
  Consumer consumer(config);
  consumer.subscribe({topic}, [&](RebalanceEvent event, const std::vector<TopicPartitionOffset>& parts) {
    out.events.push_back(event);
    if (event == RebalanceEvent::kAssigned) {
      for (const auto& p : parts) {
        EXPECT_EQ(p.topic, topic);
        out.assigned.insert(p.partition);
      }
    }
  });
  std::map<int32_t, int64_t> next;
  auto poll_until = [&](std::chrono::steady_clock::time_point deadline, bool stop_at_want) {
    while (std::chrono::steady_clock::now() < deadline && !(stop_at_want && out.values.size() >= want)) {
      for (auto& m : consumer.poll_batch(500, milliseconds(100))) {
        if (m.error()) {
          ADD_FAILURE() << "group " << group << ": " << m.error().message();
          continue;
        }
        out.values.emplace_back(m.value());
        next[m.partition()] = m.offset() + 1;
      }
    }
  };
  poll_until(std::chrono::steady_clock::now() + std::chrono::seconds(60), /*stop_at_want=*/true);
  // Anything beyond `want` would be a duplicate or a record from before the commit.
  poll_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(1500), /*stop_at_want=*/false);

  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [p, o] : next) offsets.push_back({topic, p, o});
  KafkaError err = consumer.commit(offsets);
  EXPECT_TRUE(err.ok()) << err.message();
  if (!offsets.empty()) {
    std::vector<TopicPartition> parts;
    for (const auto& o : offsets) parts.push_back({o.topic, o.partition});
    EXPECT_EQ(consumer.committed(parts), offsets) << "the broker must return what was committed";
  }
  consumer.close();
  std::sort(out.values.begin(), out.values.end());
  return out;
}

std::vector<std::string> sorted_values(const std::string& prefix, int count) {
  std::vector<std::string> v;
  for (int i = 0; i < count; ++i) v.push_back(prefix + std::to_string(i));
  std::sort(v.begin(), v.end());
  return v;
}

TEST(KafkaGroupTest, CommitResumeAndNewGroup) {
  constexpr int kCount = 60;
  const std::string topic = TestKafka::get().create_topic("group", 2);
  const std::string group = TestKafka::get().unique_name("group");

  produce_values(topic, "first-", kCount);
  GroupRead first = read_as_group(group, topic, kCount);
  EXPECT_EQ(first.values, sorted_values("first-", kCount));
  EXPECT_EQ(first.assigned, (std::set<int32_t>{0, 1}));
  ASSERT_FALSE(first.events.empty());
  EXPECT_EQ(first.events.front(), RebalanceEvent::kAssigned);

  produce_values(topic, "second-", kCount);
  GroupRead resumed = read_as_group(group, topic, kCount);
  EXPECT_EQ(resumed.values, sorted_values("second-", kCount))
      << "the same group must resume exactly after its committed offsets";

  GroupRead fresh = read_as_group(TestKafka::get().unique_name("fresh"), topic, 2 * kCount);
  std::vector<std::string> all = sorted_values("first-", kCount);
  auto second = sorted_values("second-", kCount);
  all.insert(all.end(), second.begin(), second.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(fresh.values, all) << "a new group reads everything from the beginning";
}

// The first record polled within `timeout` (fails the test when none came).
Message first_record(Consumer& consumer, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    Message m = consumer.poll(milliseconds(100));
    if (!m.empty() && !m.error()) return m;
  }
  ADD_FAILURE() << "no record within " << timeout.count() << " s";
  return Message();
}

TEST(KafkaGroupTest, RecordsLostToRetentionAreReportedCountedAndSkippedToTheLogStart) {
  if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB retention";
  const std::string topic = TestKafka::get().create_topic("group-loss", 1);
  const std::vector<std::string> big(1024, std::string(8 * 1024, 'r'));  // 8 MiB: more than a partition keeps
  streamml::testing::produce_to(topic, 0, {"a", "b", "c"});
  Config config = TestKafka::get().consumer_config();
  config.set("group.id", TestKafka::get().unique_name("group-loss"));
  config.set("auto.offset.reset", "earliest");
  {
    Consumer first(config);
    first.subscribe({topic});
    EXPECT_EQ(first_record(first).offset(), 0);
    ASSERT_TRUE(first.commit({{topic, 0, 3}}).ok());
    first.close();
  }
  streamml::testing::produce_to(topic, 0, big);
  const Watermarks w = streamml::testing::watermarks(topic, 0);
  ASSERT_GT(w.low, 3);

  // The group's committed offset is below the log start: reported at assignment.
  streamml::testing::LogCapture logs;
  Consumer second(config);
  second.subscribe({topic});
  const Message m = first_record(second);
  EXPECT_EQ(m.offset(), w.low);
  EXPECT_EQ(second.lost_records(), w.low - 3);
  EXPECT_EQ(second.data_loss_events(), 1);
  const std::string lost = "records 3.." + std::to_string(w.low - 1) + " of " + topic + ":0 were removed by retention";
  EXPECT_NE(logs.text().find(lost), std::string::npos) << logs.text();

  // The position falls behind the log start while reading (fetching paused).
  second.pause({{topic, 0}});
  streamml::testing::produce_to(topic, 0, big);
  const Watermarks later = streamml::testing::watermarks(topic, 0);
  ASSERT_GT(later.low, m.offset() + 1);
  second.resume({{topic, 0}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (second.data_loss_events() < 2 && std::chrono::steady_clock::now() < deadline) second.poll(milliseconds(100));
  EXPECT_EQ(second.data_loss_events(), 2);
  EXPECT_GT(second.lost_records(), w.low - 3);
  EXPECT_NE(logs.text().find("the fetch position fell behind the log start"), std::string::npos) << logs.text();

  // Under kFail the next poll throws, naming the records.
  Config other = config;
  other.set("group.id", TestKafka::get().unique_name("group-loss-fail"));
  {
    Consumer behind(other);
    behind.assign({{topic, 0, 0}});
    ASSERT_TRUE(behind.commit({{topic, 0, 3}}).ok());
  }
  Consumer failing(other);
  failing.set_data_loss_policy(DataLossPolicy::kFail);
  failing.subscribe({topic});
  const auto fail_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string error;
  while (error.empty() && std::chrono::steady_clock::now() < fail_deadline) {
    try {
      Message r = failing.poll(milliseconds(100));
      ASSERT_TRUE(r.empty() || r.error()) << "a record was returned in place of the lost ones: offset " << r.offset();
    } catch (const DataLossError& e) {
      error = e.what();
    }
  }
  EXPECT_NE(error.find("records 3.."), std::string::npos) << error;
  EXPECT_NE(error.find(topic + ":0"), std::string::npos) << error;
}

}  // namespace
}  // namespace streamml::kafka
