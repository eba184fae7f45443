// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/batch_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"
#include "support/record_meta_at.h"

namespace streamml::data {
namespace {

using testing::meta_at;

// "x,y" rows: feature x, label y.
class BatchBuilderTest : public ::testing::Test {
 protected:
  std::unique_ptr<Decoder> decoder_ = make_decoder("csv:names=x+y,label=y");
  BadRecordCounter bad_;

  std::unique_ptr<BatchBuilder> builder(BatchBuilder::Options options) {
    auto b = std::make_unique<BatchBuilder>(std::move(options), decoder_.get(), bad_);
    b->start(/*seed=*/1);
    return b;
  }

  // Adds rows x = 0..n-1 (offsets 0..n-1); returns the batches they completed.
  static std::vector<Batch> add_rows(BatchBuilder& b, int n) {
    std::vector<Batch> out;
    for (int i = 0; i < n; ++i) {
      if (auto full = b.add(std::to_string(i) + "," + std::to_string(10 * i), meta_at(i))) out.push_back(*full);
    }
    return out;
  }
};

TEST_F(BatchBuilderTest, FillsBatchesInOrderAndFlushesTheRemainder) {
  auto b = builder({.batch_size = 3});
  std::vector<Batch> full = add_rows(*b, 7);
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(full[0].features, (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(full[0].labels, (std::vector<float>{0, 10, 20}));
  EXPECT_EQ(full[1].meta[2].offset, 5);
  EXPECT_TRUE(full[0].payloads.empty());
  EXPECT_EQ(b->pending(), 1u);
  std::optional<Batch> last = b->flush();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->features, (std::vector<float>{6}));
  EXPECT_FALSE(b->flush());
}

TEST_F(BatchBuilderTest, DropRemainderDropsAShortLastBatch) {
  auto b = builder({.batch_size = 3, .drop_remainder = true});
  EXPECT_EQ(add_rows(*b, 4).size(), 1u);
  EXPECT_FALSE(b->flush());
}

TEST_F(BatchBuilderTest, TakeStopsCountingGoodRecordsOnly) {
  auto b = builder({.batch_size = 10, .take = 2, .bad_records = BadRecordPolicy::kSkip});
  b->add("0,0", meta_at(0));
  b->add("not a number,1", meta_at(1));
  EXPECT_FALSE(b->take_done());
  b->add("2,2", meta_at(2));
  EXPECT_TRUE(b->take_done());
}

TEST_F(BatchBuilderTest, FailPolicyThrowsNamingTheRecord) {
  auto b = builder({.batch_size = 2});
  try {
    b->add("oops,1", meta_at(41));
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot decode record t:0:41: "), std::string::npos) << e.what();
  }
}

TEST_F(BatchBuilderTest, SkipAndDeadLetterCountBadAndInvalidRecords) {
  std::vector<std::string> dead;
  auto b = builder({.batch_size = 2,
                    .bad_records = BadRecordPolicy::kDeadLetter,
                    .check = [](std::span<const float> f, std::span<const float>) -> std::optional<std::string> {
                      if (f[0] < 0) return "x is negative";
                      return std::nullopt;
                    },
                    .dead_letter = [&](const RecordMeta& meta, std::string_view payload,
                                       std::string_view reason) { dead.push_back(std::string(payload)); }});
  EXPECT_FALSE(b->add("1,1", meta_at(0)));
  EXPECT_FALSE(b->add("bad,1", meta_at(1)));
  EXPECT_FALSE(b->add("-1,1", meta_at(2)));
  std::optional<Batch> full = b->add("3,3", meta_at(3));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->features, (std::vector<float>{1, 3}));
  EXPECT_EQ(dead, (std::vector<std::string>{"bad,1", "-1,1"}));
  BadRecordReport report = bad_.report();
  EXPECT_EQ(report.count, 2u);
  ASSERT_EQ(report.examples.size(), 2u);
  EXPECT_EQ(report.examples[1], (BadRecord{"t:0:2", "x is negative"}));
}

TEST_F(BatchBuilderTest, ShuffleKeepsEveryRowOnceAndChangesTheOrder) {
  auto b = builder({.batch_size = 4, .shuffle_buffer = 16, .keep_payloads = true});
  std::vector<Batch> batches = add_rows(*b, 100);
  while (std::optional<Batch> rest = b->flush()) batches.push_back(std::move(*rest));
  std::vector<float> xs;
  for (const Batch& batch : batches) {
    ASSERT_EQ(batch.payloads.size(), batch.size);
    for (size_t i = 0; i < batch.size; ++i) {
      xs.push_back(batch.features[i]);
      EXPECT_EQ(batch.labels[i], 10 * batch.features[i]) << "a row's label travelled without its features";
      EXPECT_EQ(batch.meta[i].offset, static_cast<int64_t>(batch.features[i]));
      EXPECT_EQ(batch.payloads[i], std::to_string(batch.meta[i].offset) + "," + std::to_string(10 * batch.meta[i].offset));
    }
  }
  ASSERT_EQ(xs.size(), 100u);
  EXPECT_FALSE(std::is_sorted(xs.begin(), xs.end()));
  std::vector<float> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
}

TEST_F(BatchBuilderTest, TheSameSeedShufflesTheSameWay) {
  auto order = [&](uint64_t seed) {
    BatchBuilder b({.batch_size = 5, .shuffle_buffer = 8}, decoder_.get(), bad_);
    b.start(seed);
    std::vector<float> xs;
    std::vector<Batch> batches = add_rows(b, 40);
    while (std::optional<Batch> rest = b.flush()) batches.push_back(std::move(*rest));
    for (const Batch& batch : batches) xs.insert(xs.end(), batch.features.begin(), batch.features.end());
    return xs;
  };
  EXPECT_EQ(order(7), order(7));
  EXPECT_NE(order(7), order(8));
}

TEST_F(BatchBuilderTest, TakePendingHandsOverAPartialBatch) {
  auto b = builder({.batch_size = 10});
  add_rows(*b, 3);
  Batch partial = b->take_pending();
  EXPECT_EQ(partial.size, 3u);
  EXPECT_EQ(b->pending(), 0u);
  EXPECT_FALSE(b->flush());
}

TEST(BatchBuilder, WithoutADecoderKeepsPayloadsOnly) {
  BadRecordCounter bad;
  BatchBuilder b({.batch_size = 2, .keep_payloads = true}, nullptr, bad);
  b.start(0);
  EXPECT_FALSE(b.add("anything", meta_at(0)));
  std::optional<Batch> full = b.add(std::string("\0bin", 4), meta_at(1));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->num_features, 0u);
  EXPECT_EQ(full->payloads, (std::vector<std::string>{"anything", std::string("\0bin", 4)}));
}

}  // namespace
}  // namespace streamml::data
