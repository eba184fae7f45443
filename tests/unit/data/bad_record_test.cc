// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/bad_record.h"

#include <gtest/gtest.h>

#include <thread>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

TEST(BadRecordPolicy, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_bad_record_policy("fail"), BadRecordPolicy::kFail);
  EXPECT_EQ(parse_bad_record_policy("skip"), BadRecordPolicy::kSkip);
  EXPECT_EQ(parse_bad_record_policy("dead-letter"), BadRecordPolicy::kDeadLetter);
  EXPECT_EQ(parse_bad_record_policy("dead_letter"), BadRecordPolicy::kDeadLetter);
  EXPECT_EQ(parse_bad_record_policy("dlq"), BadRecordPolicy::kDeadLetter);
  try {
    parse_bad_record_policy("ignore");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("\"ignore\""), std::string::npos);
  }
  EXPECT_EQ(to_string(BadRecordPolicy::kDeadLetter), "dead-letter");
  EXPECT_EQ(parse_bad_record_policy(to_string(BadRecordPolicy::kSkip)), BadRecordPolicy::kSkip);
}

TEST(BadRecordCounter, CountsAllKeepsFirstExamples) {
  BadRecordCounter counter(2);
  EXPECT_EQ(counter.report().summary(), "no bad records");
  counter.add("f.csv:2", "column 1 is empty");
  counter.add("f.csv:5", "not a number");
  counter.add("f.csv:9", "third");
  BadRecordReport report = counter.report();
  EXPECT_EQ(report.count, 3u);
  ASSERT_EQ(report.examples.size(), 2u);
  EXPECT_EQ(report.examples[0], (BadRecord{"f.csv:2", "column 1 is empty"}));
  EXPECT_EQ(report.examples[1].location, "f.csv:5");
  EXPECT_EQ(report.summary(),
            "3 bad records; first: f.csv:2: column 1 is empty; f.csv:5: not a number; ... 1 more");
  counter.clear();
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_TRUE(counter.report().examples.empty());
}

TEST(BadRecordCounter, IsThreadSafe) {
  BadRecordCounter counter(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) counter.add("t:0:" + std::to_string(i), "bad");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.count(), 4000u);
  EXPECT_EQ(counter.report().examples.size(), 5u);
}

}  // namespace
}  // namespace streamml::data
