// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// assemble(): decoded chunks become the same batches as records added one by
// one (ChunkDecoder's threads are covered with Kafka records in
// integration_data, KafkaDatasetDecodeThreads).
#include "data/chunk_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"
#include "support/record_meta_at.h"

namespace streamml::data {
namespace {

using testing::meta_at;

std::string row(int i) { return std::to_string(i) + "," + std::to_string(10 * i); }

class AssembleTest : public ::testing::Test {
 protected:
  std::unique_ptr<Decoder> decoder_ = make_decoder("csv:names=x+y,label=y");
  RowDecoder rows_{decoder_.get(), RecordCheck{}, /*keep_payloads=*/false};
  BadRecordCounter bad_;

  // A chunk of records `from`..`to`-1 decoded as a worker does, with
  // segments of `segment` rows; the records in `bad` are undecodable.
  DecodedChunk decoded(int from, int to, size_t segment, const std::vector<int>& bad = {}) const {
    DecodedChunk c;
    for (int i = from; i < to; ++i) {
      if (c.segments.empty() || c.segments.back().size >= segment) c.segments.push_back(rows_.empty_batch(segment));
      RecordMeta meta = meta_at(i);
      const std::string payload = std::find(bad.begin(), bad.end(), i) != bad.end() ? "oops" : row(i);
      size_t good = 0;
      for (const Batch& s : c.segments) good += s.size;
      if (auto rejection = rows_.append(payload, meta, c.segments.back())) {
        c.rejected.push_back({good, meta, payload, *rejection});
      }
      ++c.records;
    }
    return c;
  }

  // Assembles `chunks` into a builder; returns the batches and the offsets noted.
  std::vector<Batch> assemble_all(BatchBuilder& builder, std::vector<DecodedChunk>& chunks,
                                  std::vector<int64_t>* noted = nullptr) {
    std::vector<Batch> out;
    for (DecodedChunk& c : chunks) {
      assemble(
          c, builder, [&](const RecordMeta& m) { if (noted) noted->push_back(m.offset); },
          [&](Batch b) {
            out.push_back(std::move(b));
            return true;
          });
    }
    while (auto b = builder.flush()) out.push_back(std::move(*b));
    return out;
  }
};

TEST_F(AssembleTest, WholeSegmentsBecomeBatchesWithoutACopy) {
  BatchBuilder builder({.batch_size = 4}, decoder_.get(), bad_);
  builder.start(1);
  std::vector<DecodedChunk> chunks;
  chunks.push_back(decoded(0, 8, 4));
  const float* first_rows = chunks[0].segments[0].features.data();
  std::vector<Batch> out = assemble_all(builder, chunks);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].features.data(), first_rows);  // the worker's buffer, moved
  EXPECT_EQ(out[1].features, (std::vector<float>{4, 5, 6, 7}));
  EXPECT_EQ(out[1].labels, (std::vector<float>{40, 50, 60, 70}));
}

TEST_F(AssembleTest, RejectionsKeepTheirPlaceAndTheBatchesStayFull) {
  BatchBuilder::Options options{.batch_size = 3, .bad_records = BadRecordPolicy::kSkip};
  BatchBuilder one_by_one(options, decoder_.get(), bad_);
  one_by_one.start(1);
  std::vector<Batch> expected;
  for (int i = 0; i < 10; ++i) {
    if (auto b = one_by_one.add(i == 1 || i == 5 ? "oops" : row(i), meta_at(i))) expected.push_back(std::move(*b));
  }
  while (auto b = one_by_one.flush()) expected.push_back(std::move(*b));

  BadRecordCounter bad;
  BatchBuilder builder(options, decoder_.get(), bad);
  builder.start(1);
  std::vector<DecodedChunk> chunks;
  chunks.push_back(decoded(0, 6, 3, {1, 5}));
  chunks.push_back(decoded(6, 10, 3));
  std::vector<int64_t> noted;
  std::vector<Batch> out = assemble_all(builder, chunks, &noted);
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].features, expected[i].features) << "batch " << i;
    EXPECT_EQ(out[i].labels, expected[i].labels) << "batch " << i;
  }
  EXPECT_EQ(noted, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  ASSERT_EQ(bad.report().examples.size(), 2u);
  EXPECT_EQ(bad.report().examples[0].location, "t:0:1");
  EXPECT_EQ(bad.report().examples[1].location, "t:0:5");
}

TEST_F(AssembleTest, TakeStopsInsideAChunk) {
  BatchBuilder builder({.batch_size = 4, .take = 6}, decoder_.get(), bad_);
  builder.start(1);
  DecodedChunk chunk = decoded(0, 12, 4);
  std::vector<int64_t> noted;
  const Assembled result = assemble(
      chunk, builder, [&](const RecordMeta& m) { noted.push_back(m.offset); }, [](Batch) { return true; });
  EXPECT_EQ(result, Assembled::kTakeDone);
  EXPECT_EQ(noted.size(), 6u);
  EXPECT_EQ(builder.pending(), 2u);
}

TEST_F(AssembleTest, FailPolicyThrowsAtTheRejectedRecord) {
  BatchBuilder builder({.batch_size = 2}, decoder_.get(), bad_);
  builder.start(1);
  DecodedChunk chunk = decoded(0, 6, 2, {3});
  std::vector<Batch> out;
  try {
    assemble(chunk, builder, [](const RecordMeta&) {}, [&](Batch b) {
      out.push_back(std::move(b));
      return true;
    });
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t:0:3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(out.size(), 1u);  // records 0 and 1; record 2 waits in the partial batch
}

TEST(ChunkRecords, AreWholeBatchesOfAFewHundredRecords) {
  EXPECT_EQ(chunk_records_for(1024), 1024u);
  EXPECT_EQ(chunk_records_for(32), 256u);
  EXPECT_EQ(chunk_records_for(100), 300u);
  EXPECT_EQ(chunk_records_for(1), 256u);
  EXPECT_EQ(chunk_records_for(100000), 8192u);
}

}  // namespace
}  // namespace streamml::data
