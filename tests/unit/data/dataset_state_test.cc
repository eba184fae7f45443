// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/dataset_state.h"

#include <gtest/gtest.h>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

TEST(GroupState, RoundTripsPositionsWithColonsInTopicNames) {
  const std::vector<kafka::TopicPartitionOffset> positions = {{"a", 0, 42}, {"ns:b", 3, 0}};
  const std::string text = format_group_state(positions);
  EXPECT_EQ(text, "group a:0:42 ns:b:3:0");
  const auto back = parse_group_state(text);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].topic, "ns:b");
  EXPECT_EQ(back[1].partition, 3);
  EXPECT_EQ(back[0].offset, 42);
  EXPECT_TRUE(parse_group_state(format_group_state({})).empty());
}

TEST(GroupState, NamesTheStateAndTheBadItem) {
  for (const char* bad : {"bounded 0 0 0", "", "group t:0", "group t:-1:5", "group :0:1", "group t:0:x",
                          "group t:4294967296:1"}) {
    try {
      parse_group_state(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace streamml::data
