// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Consumer groups: committed offsets survive the consumer, the same group
// resumes exactly after them, and a new group starts from the beginning.
// (Each group join costs seconds on the embedded cluster: keep these few.)
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
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

}  // namespace
}  // namespace streamml::kafka
