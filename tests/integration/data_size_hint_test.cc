// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaDataset::size_hint: bounded ranges know their size before they are
// read (the progress bar's first-epoch total, issue 19); a consumer group
// does not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "streamml/data/kafka_dataset.h"
#include "support/test_kafka.h"

namespace streamml::data {
namespace {

using testing::TestKafka;

std::vector<std::string> values(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(std::to_string(i));
  return v;
}

TEST(KafkaDatasetSizeHint, BoundedRangesKnowTheirSizeAndGroupsDoNot) {
  const std::string topic = TestKafka::get().create_topic("size-hint", 2);
  testing::produce_to(topic, 0, values(30));
  testing::produce_to(topic, 1, values(12));
  KafkaDatasetOptions o;
  o.config = TestKafka::get().config();
  o.ranges = {topic + ":0:5:14", topic + ":1"};
  o.batch_size = 7;
  KafkaDataset ranges(o);
  EXPECT_EQ(ranges.size_hint(), 10 + 12);
  int64_t read = 0;
  while (auto batch = ranges.next()) read += static_cast<int64_t>(batch->size);
  EXPECT_EQ(read, 22);
  EXPECT_EQ(ranges.resolved_ranges(), (std::vector<std::string>{topic + ":0:5..14", topic + ":1:0..11"}));

  o.take = 15;
  EXPECT_EQ(KafkaDataset(o).size_hint(), 15);
  o.take = -1;
  o.repeat = 2;
  EXPECT_EQ(KafkaDataset(o).size_hint(), 44);

  KafkaDatasetOptions g;
  g.config = TestKafka::get().config();
  g.group = TestKafka::get().unique_name("size-hint-g");
  g.topics = {topic};
  g.stream_timeout = std::chrono::milliseconds(100);
  EXPECT_EQ(KafkaDataset(g).size_hint(), std::nullopt);
}

}  // namespace
}  // namespace streamml::data
