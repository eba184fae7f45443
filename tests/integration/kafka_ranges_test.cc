// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// resolve_ranges() against a live cluster: inclusive ends, watermarks,
// timestamps, missing topics/partitions, and records lost to retention.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "streamml/kafka/range_spec.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::TestKafka;

constexpr int64_t kBaseTs = 1700000000000;

// Two partitions: 10 records on 0 and 4 on 1; record i has timestamp
// kBaseTs + i * 1000.
class KafkaRangesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    topic_ = new std::string(TestKafka::get().create_topic("ranges", 2));
    Producer producer(TestKafka::get().config());
    for (int p = 0; p < 2; ++p) {
      for (int i = 0; i < (p == 0 ? 10 : 4); ++i) {
        std::string value = std::to_string(i);
        ProduceRecord r;
        r.topic = *topic_;
        r.partition = p;
        r.value = value;
        r.timestamp_ms = kBaseTs + i * 1000;
        ASSERT_TRUE(producer.produce(r).ok());
      }
    }
    ASSERT_TRUE(producer.flush().ok());
  }
  static void TearDownTestSuite() {
    delete topic_;
    topic_ = nullptr;
  }

  std::vector<ResolvedRange> resolve(const std::vector<std::string>& texts) {
    std::vector<RangeSpec> specs;
    for (const auto& t : texts) specs.push_back(parse_range_spec(t));
    return resolve_ranges(consumer_, specs);
  }
  std::vector<ResolvedRange> resolve(const std::string& text) { return resolve(std::vector<std::string>{text}); }
  ResolvedRange range(int32_t partition, int64_t start, int64_t end) const {
    return ResolvedRange{*topic_, partition, start, end};
  }
  static std::string t() { return *topic_; }

  static std::string* topic_;
  Consumer consumer_{TestKafka::get().consumer_config()};
};

std::string* KafkaRangesTest::topic_ = nullptr;

TEST_F(KafkaRangesTest, EndIsInclusive) {
  EXPECT_EQ(resolve(t() + ":0:2:5"), std::vector<ResolvedRange>{range(0, 2, 6)});
  EXPECT_EQ(resolve(t() + ":0:7:7"), std::vector<ResolvedRange>{range(0, 7, 8)});
  EXPECT_EQ(resolve(t() + ":0:7:7").front().size(), 1);
  EXPECT_EQ(resolve(t() + ":0:0:9"), std::vector<ResolvedRange>{range(0, 0, 10)});
}

TEST_F(KafkaRangesTest, MinusOneAndEndMeanTheHighWatermark) {
  EXPECT_EQ(resolve(t() + ":0:3:-1"), std::vector<ResolvedRange>{range(0, 3, 10)});
  EXPECT_EQ(resolve(t() + ":0:3:end"), std::vector<ResolvedRange>{range(0, 3, 10)});
  EXPECT_EQ(resolve(t() + ":0:3"), std::vector<ResolvedRange>{range(0, 3, 10)});
  EXPECT_EQ(resolve(t() + ":1:-2:-1"), std::vector<ResolvedRange>{range(1, 0, 4)});
  EXPECT_EQ(resolve(t() + ":0:end"), std::vector<ResolvedRange>{range(0, 10, 10)});
  EXPECT_EQ(resolve(t() + ":0:end").front().size(), 0);
}

TEST_F(KafkaRangesTest, TopicAloneExpandsToEveryPartitionInOrder) {
  EXPECT_EQ(resolve(t()), (std::vector<ResolvedRange>{range(0, 0, 10), range(1, 0, 4)}));
  EXPECT_EQ(resolve(t() + "::1:2"), (std::vector<ResolvedRange>{range(0, 1, 3), range(1, 1, 3)}));
}

TEST_F(KafkaRangesTest, SpecsResolveInTheGivenOrder) {
  EXPECT_EQ(resolve({t() + ":1", t() + ":0:1:1"}), (std::vector<ResolvedRange>{range(1, 0, 4), range(0, 1, 2)}));
}

TEST_F(KafkaRangesTest, RangesPastTheNewestOffsetFailAtOnceNamingBoth) {
  auto error_of = [&](const std::string& text) -> std::string {
    try {
      resolve(text);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(error_of(t() + ":0:5:20"),
            t() + ":0 ends at offset 9; the range asks for 5..20 (those records do not exist yet)");
  // Starting past the end is the same mistake, not a retention loss.
  EXPECT_EQ(error_of(t() + ":0:50:60"),
            t() + ":0 ends at offset 9; the range asks for 50..60 (those records do not exist yet)");
  EXPECT_EQ(error_of(t() + ":1:50"),
            t() + ":1 ends at offset 3; the range asks for 50..end (those records do not exist yet)");
  EXPECT_EQ(error_of(t() + "::0:5"),
            t() + ":1 ends at offset 3; the range asks for 0..5 (those records do not exist yet)");
  // Up to the newest offset, and an empty range at the end, are fine.
  EXPECT_EQ(resolve(t() + ":0:5:9"), std::vector<ResolvedRange>{range(0, 5, 10)});
  EXPECT_EQ(resolve(t() + ":0:10"), std::vector<ResolvedRange>{range(0, 10, 10)});
}

TEST_F(KafkaRangesTest, EndBeyondTheWatermarkIsKeptWhenWaitingIsAsked) {
  EXPECT_EQ(resolve_ranges(consumer_, {parse_range_spec(t() + ":0:5:20")}, kDefaultTimeout, FutureOffsets::kWait),
            std::vector<ResolvedRange>{range(0, 5, 21)});
}

TEST_F(KafkaRangesTest, TimestampsResolveToOffsets) {
  // Start: the first record at or after the time.
  EXPECT_EQ(resolve(t() + "::@" + std::to_string(kBaseTs + 3000)),
            (std::vector<ResolvedRange>{range(0, 3, 10), range(1, 3, 4)}));
  EXPECT_EQ(resolve(t() + ":0:@" + std::to_string(kBaseTs + 2500)), std::vector<ResolvedRange>{range(0, 3, 10)});
  // End: stops before the first record at or after the time.
  EXPECT_EQ(resolve(t() + ":0:@" + std::to_string(kBaseTs + 2500) + ":@" + std::to_string(kBaseTs + 6000)),
            std::vector<ResolvedRange>{range(0, 3, 6)});
  // Before everything: the beginning. After everything: the end (empty range).
  EXPECT_EQ(resolve(t() + ":0:@0"), std::vector<ResolvedRange>{range(0, 0, 10)});
  EXPECT_EQ(resolve(t() + ":0:@" + std::to_string(kBaseTs + 999999)), std::vector<ResolvedRange>{range(0, 10, 10)});
  EXPECT_EQ(resolve(t() + ":1:0:@" + std::to_string(kBaseTs + 999999)), std::vector<ResolvedRange>{range(1, 0, 4)});
}

TEST_F(KafkaRangesTest, MissingTopicIsNamed) {
  const std::string missing = TestKafka::get().unique_name("missing");
  try {
    resolve(missing);
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find("'" + missing + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(KafkaRangesTest, MissingPartitionIsNamed) {
  try {
    resolve(t() + ":5:0:1");
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("partition 5 of topic '" + t() + "' does not exist"), std::string::npos) << what;
    EXPECT_NE(what.find("2 partition(s)"), std::string::npos) << what;
  }
}

// The mock cluster keeps ~5 MiB per partition; producing more moves the log
// start. Reading from before it must fail loudly, never skip.
TEST(KafkaRetentionTest, RangeBelowLogStartIsDataLoss) {
  if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB retention";
  const std::string topic = TestKafka::get().create_topic("retention", 1);
  const std::string value(8 * 1024, 'r');
  streamml::testing::produce_to(topic, 0, std::vector<std::string>(1024, value));  // 8 MiB
  Consumer consumer(TestKafka::get().consumer_config());
  Watermarks w = consumer.query_watermarks(topic, 0);
  ASSERT_EQ(w.high, 1024);
  ASSERT_GT(w.low, 0) << "retention did not move the log start; the test cannot check data loss";

  auto expect_loss = [&](const std::string& spec, int64_t last_lost) {
    try {
      resolve_ranges(consumer, {parse_range_spec(spec)});
      ADD_FAILURE() << spec << ": expected DataLossError";
    } catch (const DataLossError& e) {
      std::string expected = "records 0.." + std::to_string(last_lost) + " of " + topic +
                             ":0 are no longer in the log";
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << spec << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("starts at offset " + std::to_string(w.low)), std::string::npos)
          << e.what();
    }
  };
  expect_loss(topic + ":0:0", w.low - 1);
  expect_loss(topic + ":0:0:" + std::to_string(w.low + 3), w.low - 1);
  expect_loss(topic + ":0:0:2", 2);

  // From the beginning means from the log start: nothing is lost.
  const std::vector<ResolvedRange> kept{ResolvedRange{topic, 0, w.low, w.high}};
  EXPECT_EQ(resolve_ranges(consumer, {parse_range_spec(topic + ":0")}), kept);
  EXPECT_EQ(resolve_ranges(consumer, {parse_range_spec(topic + ":0:" + std::to_string(w.low))}), kept);

  // A consumer positioned before the log start reports an error instead of jumping.
  Config config = TestKafka::get().consumer_config();
  config.set("auto.offset.reset", "error");
  Consumer reader(config);
  reader.assign({{topic, 0, 0}});
  bool reported = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!reported && std::chrono::steady_clock::now() < deadline) {
    for (auto& m : reader.poll_batch(100, milliseconds(100))) {
      if (m.error()) {
        reported = true;
        break;
      }
      ADD_FAILURE() << "read offset " << m.offset() << " although offset 0 is gone";
      return;
    }
  }
  EXPECT_TRUE(reported) << "reading from a deleted offset must report an error";
}

}  // namespace
}  // namespace streamml::kafka
