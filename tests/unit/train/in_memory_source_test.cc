// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/in_memory_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

// Rows 0..n-1 with features {i, 10 i} and label i.
InMemorySource make_source(size_t rows, InMemorySourceOptions options) {
  std::vector<float> features, labels;
  for (size_t i = 0; i < rows; ++i) {
    features.push_back(static_cast<float>(i));
    features.push_back(static_cast<float>(10 * i));
    labels.push_back(static_cast<float>(i));
  }
  return InMemorySource(features, 2, labels, 1, options);
}

std::vector<float> epoch_labels(InMemorySource& source, std::vector<size_t>* sizes = nullptr) {
  std::vector<float> out;
  while (auto batch = source.next()) {
    if (sizes) sizes->push_back(batch->size);
    for (size_t r = 0; r < batch->size; ++r) {
      EXPECT_EQ(batch->features[r * 2 + 1], 10 * batch->labels[r]);  // rows stay whole
      EXPECT_EQ(batch->meta[r].offset, static_cast<int64_t>(batch->labels[r]));
    }
    out.insert(out.end(), batch->labels.begin(), batch->labels.end());
  }
  return out;
}

TEST(InMemorySource, BatchesInOrderAndReplaysAfterReset) {
  InMemorySource source = make_source(10, {.batch_size = 4});
  std::vector<size_t> sizes;
  std::vector<float> first = epoch_labels(source, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(first, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_FALSE(source.next().has_value());
  source.reset();
  EXPECT_EQ(epoch_labels(source), first);
  EXPECT_EQ(source.batches_per_epoch(), 3u);
  EXPECT_EQ(source.feature_names(), (std::vector<std::string>{"f0", "f1"}));
}

TEST(InMemorySource, ShuffleIsSeededPerEpochAndKeepsEveryRow) {
  InMemorySource a = make_source(50, {.batch_size = 8, .shuffle = true, .seed = 3});
  InMemorySource b = make_source(50, {.batch_size = 8, .shuffle = true, .seed = 3});
  std::vector<float> a0 = epoch_labels(a), b0 = epoch_labels(b);
  EXPECT_EQ(a0, b0);
  a.reset();
  std::vector<float> a1 = epoch_labels(a);
  EXPECT_NE(a0, a1);  // a new order each epoch
  std::vector<float> sorted = a1;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], static_cast<float>(i));
  a.seek_epoch(0);
  EXPECT_EQ(epoch_labels(a), a0);
  InMemorySource c = make_source(50, {.batch_size = 8, .shuffle = true, .seed = 4});
  EXPECT_NE(epoch_labels(c), a0);
}

TEST(InMemorySource, DropLast) {
  InMemorySource source = make_source(10, {.batch_size = 4, .drop_last = true});
  std::vector<size_t> sizes;
  epoch_labels(source, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4}));
  EXPECT_EQ(source.batches_per_epoch(), 2u);
}

TEST(InMemorySource, RejectsInconsistentInput) {
  EXPECT_THROW(InMemorySource({1, 2, 3}, 2, {}, 0), ConfigError);
  EXPECT_THROW(InMemorySource({1, 2}, 2, {1, 2}, 1), ConfigError);
  EXPECT_THROW(InMemorySource({1, 2}, 2, {1}, 1, {.batch_size = 0}), ConfigError);
  EXPECT_THROW(InMemorySource({1, 2}, 2, {1}, 1, {.feature_names = {"x"}}), ConfigError);
}

}  // namespace
}  // namespace streamml::data
