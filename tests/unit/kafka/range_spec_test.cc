// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RangeSpec grammar: every accepted form and every rejected one. No broker.
#include "streamml/kafka/range_spec.h"

#include <gtest/gtest.h>

#include <string>

#include "streamml/common/error.h"

namespace streamml::kafka {
namespace {

using Kind = OffsetSpec::Kind;

// Parses `text`, expecting a ConfigError; returns its message.
std::string parse_error(const std::string& text) {
  try {
    RangeSpec spec = parse_range_spec(text);
    ADD_FAILURE() << "'" << text << "' parsed as " << spec.to_string() << " but should have been rejected";
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(RangeSpecTest, TopicOnlyMeansEveryPartitionBeginningToEnd) {
  RangeSpec spec = parse_range_spec("events");
  EXPECT_EQ(spec.topic, "events");
  EXPECT_FALSE(spec.partition.has_value());
  EXPECT_EQ(spec.start, OffsetSpec::beginning());
  EXPECT_EQ(spec.end, OffsetSpec::end());
}

TEST(RangeSpecTest, TopicAndPartition) {
  RangeSpec spec = parse_range_spec("t:1");
  EXPECT_EQ(spec.topic, "t");
  ASSERT_TRUE(spec.partition.has_value());
  EXPECT_EQ(*spec.partition, 1);
  EXPECT_EQ(spec.start, OffsetSpec::beginning());
  EXPECT_EQ(spec.end, OffsetSpec::end());
}

TEST(RangeSpecTest, TopicPartitionStart) {
  RangeSpec spec = parse_range_spec("t:1:5");
  EXPECT_EQ(*spec.partition, 1);
  EXPECT_EQ(spec.start, OffsetSpec::at(5));
  EXPECT_EQ(spec.end, OffsetSpec::end());
}

TEST(RangeSpecTest, TopicPartitionStartEndKeepsEndAsGiven) {
  RangeSpec spec = parse_range_spec("t:1:5:9");
  EXPECT_EQ(*spec.partition, 1);
  EXPECT_EQ(spec.start, OffsetSpec::at(5));
  // The end stays the inclusive offset the user wrote; resolve_ranges makes it exclusive.
  EXPECT_EQ(spec.end, OffsetSpec::at(9));
}

TEST(RangeSpecTest, StartEqualToEndIsOneRecord) {
  RangeSpec spec = parse_range_spec("t:0:7:7");
  EXPECT_EQ(spec.start, OffsetSpec::at(7));
  EXPECT_EQ(spec.end, OffsetSpec::at(7));
}

TEST(RangeSpecTest, TimestampStartOnEveryPartition) {
  RangeSpec spec = parse_range_spec("t::@123");
  EXPECT_EQ(spec.topic, "t");
  EXPECT_FALSE(spec.partition.has_value());
  EXPECT_EQ(spec.start, OffsetSpec::time(123));
  EXPECT_EQ(spec.start.kind, Kind::kTimestamp);
  EXPECT_EQ(spec.end, OffsetSpec::end());
}

TEST(RangeSpecTest, TimestampEnd) {
  RangeSpec spec = parse_range_spec("t:2:@1700000000000:@1700000000999");
  EXPECT_EQ(spec.start, OffsetSpec::time(1700000000000));
  EXPECT_EQ(spec.end, OffsetSpec::time(1700000000999));
}

TEST(RangeSpecTest, NamedAndNumericSpecialOffsets) {
  EXPECT_EQ(parse_range_spec("t:0:beginning").start, OffsetSpec::beginning());
  EXPECT_EQ(parse_range_spec("t:0:-2").start, OffsetSpec::beginning());
  EXPECT_EQ(parse_range_spec("t:0:end").start, OffsetSpec::end());
  EXPECT_EQ(parse_range_spec("t:0:-1").start, OffsetSpec::end());
  EXPECT_EQ(parse_range_spec("t:0:0:end").end, OffsetSpec::end());
  EXPECT_EQ(parse_range_spec("t:0:0:-1").end, OffsetSpec::end());
  EXPECT_EQ(parse_range_spec("t:0:0:beginning").end, OffsetSpec::beginning());
  EXPECT_EQ(parse_range_spec("t:0:0:-2").end, OffsetSpec::beginning());
  EXPECT_EQ(parse_range_spec("t:0:beginning:end"),
            (RangeSpec{"t", 0, OffsetSpec::beginning(), OffsetSpec::end()}));
}

TEST(RangeSpecTest, EmptyFieldsTakeTheirDefaults) {
  // Empty partition: every partition. Empty start: beginning. Empty end: end.
  EXPECT_EQ(parse_range_spec("t:"), (RangeSpec{"t", std::nullopt, OffsetSpec::beginning(), OffsetSpec::end()}));
  EXPECT_EQ(parse_range_spec("t::"), (RangeSpec{"t", std::nullopt, OffsetSpec::beginning(), OffsetSpec::end()}));
  EXPECT_EQ(parse_range_spec("t:::"), (RangeSpec{"t", std::nullopt, OffsetSpec::beginning(), OffsetSpec::end()}));
  EXPECT_EQ(parse_range_spec("t::5"), (RangeSpec{"t", std::nullopt, OffsetSpec::at(5), OffsetSpec::end()}));
  EXPECT_EQ(parse_range_spec("t:3::9"), (RangeSpec{"t", 3, OffsetSpec::beginning(), OffsetSpec::at(9)}));
  EXPECT_EQ(parse_range_spec("t:3:4:"), (RangeSpec{"t", 3, OffsetSpec::at(4), OffsetSpec::end()}));
  EXPECT_EQ(parse_range_spec("t:::9"), (RangeSpec{"t", std::nullopt, OffsetSpec::beginning(), OffsetSpec::at(9)}));
}

TEST(RangeSpecTest, TopicNamesWithEveryAllowedCharacter) {
  EXPECT_EQ(parse_range_spec("My.topic_name-2").topic, "My.topic_name-2");
  EXPECT_EQ(parse_range_spec(std::string(249, 'a')).topic, std::string(249, 'a'));
}

TEST(RangeSpecTest, LargeValuesParse) {
  RangeSpec spec = parse_range_spec("t:2147483647:9223372036854775806:9223372036854775807");
  EXPECT_EQ(*spec.partition, 2147483647);
  EXPECT_EQ(spec.start, OffsetSpec::at(9223372036854775806));
  EXPECT_EQ(spec.end, OffsetSpec::at(9223372036854775807));
}

TEST(RangeSpecTest, ToStringRoundTrips) {
  for (const char* text : {"t", "t:1", "t:1:5", "t:1:5:9", "t::@123", "t:0:end:beginning", "t:::@5"}) {
    RangeSpec spec = parse_range_spec(text);
    EXPECT_EQ(parse_range_spec(spec.to_string()), spec) << text << " -> " << spec.to_string();
  }
  EXPECT_EQ(parse_range_spec("t:1:5:9").to_string(), "t:1:5:9");
  EXPECT_EQ(parse_range_spec("t").to_string(), "t::beginning:end");
  EXPECT_EQ(parse_range_spec("t::@123").to_string(), "t::@123:end");
}

TEST(RangeSpecTest, ResolvedRangeSizeAndText) {
  ResolvedRange r{"t", 2, 5, 10};
  EXPECT_EQ(r.size(), 5);
  EXPECT_EQ(r.to_string(), "t:2:5..9");  // inclusive, as the SPEC grammar
  EXPECT_EQ((ResolvedRange{"t", 2, 5, 5}).to_string(), "t:2:empty@5");
  EXPECT_EQ((ResolvedRange{"t", 0, 10, 10}).size(), 0);
  EXPECT_EQ((ResolvedRange{"t", 0, 10, 3}).size(), 0);
}

// --- errors -----------------------------------------------------------------

constexpr const char* kExpectedForm = "expected topic[:partition[:start[:end]]]";

TEST(RangeSpecErrorTest, EmptyTopic) {
  for (const char* text : {"", ":1", ":1:2:3", "::"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("the topic is empty"), std::string::npos) << error;
    EXPECT_NE(error.find(kExpectedForm), std::string::npos) << error;
    EXPECT_NE(error.find("'" + std::string(text) + "'"), std::string::npos) << "must quote the spec: " << error;
  }
}

TEST(RangeSpecErrorTest, BadTopicCharacters) {
  for (const char* text : {"bad topic", "t/x", "t*", "tö", "t,u:1"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("[a-zA-Z0-9._-]"), std::string::npos) << text << ": " << error;
    EXPECT_NE(error.find(kExpectedForm), std::string::npos) << error;
  }
}

TEST(RangeSpecErrorTest, TopicTooLong) {
  std::string error = parse_error(std::string(250, 'a'));
  EXPECT_NE(error.find("at most 249"), std::string::npos) << error;
}

TEST(RangeSpecErrorTest, BadPartition) {
  for (const char* text : {"t:x", "t:-1", "t:1.5", "t: 1", "t:1x:0", "t:2147483648", "t:+1"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("is not a non-negative number"), std::string::npos) << text << ": " << error;
    EXPECT_NE(error.find(kExpectedForm), std::string::npos) << error;
  }
  EXPECT_NE(parse_error("t:abc").find("partition 'abc'"), std::string::npos);
}

TEST(RangeSpecErrorTest, BadOffsets) {
  std::string start = parse_error("t:0:abc");
  EXPECT_NE(start.find("start 'abc' is not an offset"), std::string::npos) << start;
  std::string end = parse_error("t:0:1:xyz");
  EXPECT_NE(end.find("end 'xyz' is not an offset"), std::string::npos) << end;
  for (const char* text : {"t:0:-3", "t:0:1:-5", "t:0:1e3", "t:0:99999999999999999999", "t:0:BEGINNING"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("is not an offset"), std::string::npos) << text << ": " << error;
    EXPECT_NE(error.find(kExpectedForm), std::string::npos) << error;
  }
}

TEST(RangeSpecErrorTest, EndBeforeStart) {
  std::string error = parse_error("t:0:10:9");
  EXPECT_NE(error.find("end 9 is before start 10"), std::string::npos) << error;
  EXPECT_NE(error.find("end is inclusive"), std::string::npos) << error;
}

TEST(RangeSpecErrorTest, TooManyFields) {
  for (const char* text : {"t:0:1:2:3", "t::::", "host:9092:t:0:1"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("too many ':' separated fields"), std::string::npos) << text << ": " << error;
    EXPECT_NE(error.find(kExpectedForm), std::string::npos) << error;
  }
}

TEST(RangeSpecErrorTest, BadTimestamp) {
  for (const char* text : {"t::@", "t::@abc", "t::@-5", "t:0:0:@12x", "t::@1.5"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("is not a valid @<unix-ms> timestamp"), std::string::npos) << text << ": " << error;
    EXPECT_NE(error.find(kExpectedForm), std::string::npos) << error;
  }
}

TEST(RangeSpecErrorTest, ErrorShowsAnExample) {
  std::string error = parse_error("t:0:10:9");
  EXPECT_NE(error.find("e.g. events:0:100:199"), std::string::npos) << error;
  EXPECT_NE(error.find("@<unix-ms>"), std::string::npos) << error;
}

}  // namespace
}  // namespace streamml::kafka
