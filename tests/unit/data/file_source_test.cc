// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/file_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <span>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("streamml_file_source_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  std::filesystem::path dir_;
};

// All rows of one epoch, concatenated.
Batch drain(FileSource& source, std::vector<size_t>* sizes = nullptr) {
  Batch all;
  while (auto batch = source.next()) {
    EXPECT_FALSE(batch->empty());
    if (sizes != nullptr) sizes->push_back(batch->size);
    all.append(*batch);
  }
  return all;
}

TEST_F(FileSourceTest, CsvWithHeaderBatchesLineNumbersAndEpochs) {
  const std::string a = write("a.csv", "x1,x2,y\n1,2,0\n3,4,1\r\n\n5,6,0\n");
  const std::string b = write("b.csv", "x2,y,x1\n20,1,10\n");  // other column order
  FileSourceOptions options;
  options.paths = {a, b};
  options.decoder_spec = "csv:header,label=y";
  options.batch_size = 2;
  FileSource source(options);
  EXPECT_EQ(source.num_features(), 2u);
  EXPECT_EQ(source.num_labels(), 1u);
  EXPECT_EQ(source.feature_names(), (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(source.decoder_spec(), "csv:header,names=x1+x2+y,features=0..1,label=2,missing=error");
  std::vector<size_t> sizes;
  Batch epoch1 = drain(source, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2}));
  EXPECT_EQ(epoch1.features, (std::vector<float>{1, 2, 3, 4, 5, 6, 10, 20}));
  EXPECT_EQ(epoch1.labels, (std::vector<float>{0, 1, 0, 1}));
  ASSERT_EQ(epoch1.meta.size(), 4u);
  EXPECT_EQ(epoch1.meta[0].topic, a);
  EXPECT_EQ(epoch1.meta[0].partition, -1);
  EXPECT_EQ(epoch1.meta[0].offset, 2);
  EXPECT_EQ(epoch1.meta[1].offset, 3);
  EXPECT_EQ(epoch1.meta[2].offset, 5);  // after the blank line
  EXPECT_EQ(epoch1.meta[3].topic, b);
  EXPECT_EQ(epoch1.meta[3].offset, 2);
  EXPECT_EQ(epoch1.meta[3].location(), b + ":2");
  EXPECT_EQ(source.rows(), 4u);
  EXPECT_FALSE(source.next());
  source.reset();
  Batch epoch2 = drain(source);
  EXPECT_EQ(epoch2.features, epoch1.features);
  EXPECT_EQ(epoch2.labels, epoch1.labels);
  for (size_t i = 0; i < epoch1.meta.size(); ++i) {
    EXPECT_EQ(epoch2.meta[i].location(), epoch1.meta[i].location());
  }
}

TEST_F(FileSourceTest, QuotedCsvRecordsSpanLines) {
  const std::string a = write("q.csv", "id,note,y\n1,\"two\nlines\",5\n2,plain,6\n");
  FileSourceOptions options;
  options.paths = {a};
  options.decoder_spec = "csv:header,features=id,label=y";
  FileSource source(options);
  Batch all = drain(source);
  EXPECT_EQ(all.features, (std::vector<float>{1, 2}));
  EXPECT_EQ(all.labels, (std::vector<float>{5, 6}));
  EXPECT_EQ(all.meta[0].offset, 2);
  EXPECT_EQ(all.meta[1].offset, 4);
}

TEST_F(FileSourceTest, UnmatchedQuoteIsBoundedAndReported) {
  std::string content = "a,y\n1,\"open\n";
  for (int i = 0; i < 2000; ++i) content += std::string(1000, 'x') + "\n";
  const std::string a = write("open.csv", content);
  FileSourceOptions options;
  options.paths = {a};
  options.decoder_spec = "csv:header,label=y,missing=zero";
  options.bad_records = BadRecordPolicy::kSkip;
  FileSource source(options);
  Batch all = drain(source);
  BadRecordReport report = source.report();
  ASSERT_GE(report.count, 1u);
  EXPECT_EQ(report.examples[0].location, a + ":2");
  EXPECT_NE(report.examples[0].reason.find("unterminated quoted field"), std::string::npos)
      << report.examples[0].reason;
  // The lines after the bound are decoded on their own (as zeros here).
  EXPECT_GT(all.size, 0u);
  EXPECT_LT(all.size, 2000u);
}

TEST_F(FileSourceTest, JsonLines) {
  const std::string a = write("a.jsonl", "{\"a\": 1, \"y\": 0}\n{\"a\": 2, \"y\": 1}\n");
  FileSourceOptions options;
  options.paths = {a};
  options.decoder_spec = "json:features=a,label=y";
  options.batch_size = 10;
  FileSource source(options);
  Batch all = drain(source);
  EXPECT_EQ(all.size, 2u);
  EXPECT_EQ(all.features, (std::vector<float>{1, 2}));
  EXPECT_EQ(all.meta[1].offset, 2);
}

TEST_F(FileSourceTest, FailPolicyNamesFileLineAndReason) {
  const std::string a = write("bad.csv", "1,2\n3,x\n5,6\n");
  FileSourceOptions options;
  options.paths = {a};
  options.decoder_spec = "csv:columns=2,label=1";
  options.batch_size = 1;
  FileSource source(options);
  ASSERT_TRUE(source.next());
  try {
    source.next();
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), a + ":2: column 1: not a number: \"x\"");
  }
}

TEST_F(FileSourceTest, SkipPolicyCountsAndReports) {
  const std::string a = write("bad.csv", "1,2\n3,x\n,6\n7,8\n");
  FileSourceOptions options;
  options.paths = {a};
  options.decoder_spec = "csv:columns=2,label=1";
  options.bad_records = BadRecordPolicy::kSkip;
  options.max_reported = 1;
  FileSource source(options);
  Batch all = drain(source);
  EXPECT_EQ(all.features, (std::vector<float>{1, 7}));
  EXPECT_EQ(all.meta[1].offset, 4);
  BadRecordReport report = source.report();
  EXPECT_EQ(report.count, 2u);
  ASSERT_EQ(report.examples.size(), 1u);
  EXPECT_EQ(report.examples[0].location, a + ":2");
  EXPECT_EQ(report.examples[0].reason, "column 1: not a number: \"x\"");
  source.reset();
  EXPECT_EQ(source.report().count, 0u);
  drain(source);
  EXPECT_EQ(source.report().count, 2u);  // same records, same report each epoch
}

TEST_F(FileSourceTest, RecordsFailingTheCheckFollowTheBadRecordPolicy) {
  const std::string path = write("check.csv", "1,2,0\nnan,2,1\n3,4,7\n5,6,1\n");
  FileSourceOptions options;
  options.paths = {path};
  options.decoder_spec = "csv:columns=3,label=2";
  options.check = [](std::span<const float> features, std::span<const float> labels) -> std::optional<std::string> {
    for (float f : features) {
      if (f != f) return std::string("feature is nan");
    }
    if (!labels.empty() && labels[0] > 1) return std::string("label out of range");
    return std::nullopt;
  };
  {
    FileSource source(options);  // fail: the first invalid record, named
    try {
      drain(source);
      FAIL() << "expected InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), path + ":2: feature is nan");
    }
  }
  options.bad_records = BadRecordPolicy::kSkip;
  FileSource source(options);
  Batch all = drain(source);
  EXPECT_EQ(all.features, (std::vector<float>{1, 2, 5, 6}));
  EXPECT_EQ(all.labels, (std::vector<float>{0, 1}));
  ASSERT_EQ(source.report().count, 2u);
  EXPECT_EQ(source.report().examples[1].location, path + ":3");
  EXPECT_EQ(source.report().examples[1].reason, "label out of range");
}

TEST_F(FileSourceTest, DeadLetterPolicyHandsRecordsToTheSink) {
  const std::string a = write("bad.jsonl", "{\"a\": 1}\n{\"a\": \"\\u0000\"}\nnot json\n");
  std::vector<std::string> dead;
  FileSourceOptions options;
  options.paths = {a};
  options.decoder_spec = "json:features=a";
  options.bad_records = BadRecordPolicy::kDeadLetter;
  options.dead_letter = [&](const RecordMeta& meta, std::string_view payload,
                            std::string_view reason) {
    dead.push_back(meta.location() + "|" + std::string(payload) + "|" + std::string(reason));
  };
  FileSource source(options);
  EXPECT_EQ(drain(source).size, 1u);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].rfind(a + ":2|{\"a\": \"\\u0000\"}|field 'a' is not a number", 0), 0u) << dead[0];
  EXPECT_EQ(dead[1].rfind(a + ":3|not json|invalid JSON", 0), 0u) << dead[1];
  EXPECT_EQ(source.report().count, 2u);
}

TEST_F(FileSourceTest, ConfigurationAndInputErrors) {
  const std::string ok = write("ok.csv", "a,y\n1,2\n");
  FileSourceOptions options;
  options.decoder_spec = "csv:header,label=y";
  EXPECT_THROW(FileSource{options}, ConfigError);  // no paths
  options.paths = {ok};
  options.batch_size = 0;
  EXPECT_THROW(FileSource{options}, ConfigError);
  options.batch_size = 4;
  options.bad_records = BadRecordPolicy::kDeadLetter;
  EXPECT_THROW(FileSource{options}, ConfigError);  // no sink
  options.bad_records = BadRecordPolicy::kFail;
  options.decoder_spec = "raw:bytes=4";
  EXPECT_THROW(FileSource{options}, ConfigError);
  options.decoder_spec = "csv:header,label=y";
  options.paths = {ok, (dir_ / "missing.csv").string()};
  try {
    FileSource source(options);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.csv"), std::string::npos) << e.what();
  }
  options.paths = {write("empty.csv", "")};
  EXPECT_THROW(FileSource{options}, InputError);
  options.paths = {write("nolabel.csv", "a,b\n1,2\n")};
  try {
    FileSource source(options);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nolabel.csv:1: the header does not fit"),
              std::string::npos)
        << e.what();
  }
  // A later file whose header lacks a column fails when reached, naming it.
  options.paths = {ok, write("other.csv", "a,z\n1,2\n")};
  options.batch_size = 1;
  FileSource source(options);
  ASSERT_TRUE(source.next());
  try {
    source.next();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("other.csv:1: the header does not fit"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("no column named \"y\""), std::string::npos);
  }
}

TEST_F(FileSourceTest, LargeFileStreamsInBoundedBatches) {
  std::string content;
  for (int i = 0; i < 10000; ++i) content += std::to_string(i) + "," + std::to_string(i % 2) + "\n";
  FileSourceOptions options;
  options.paths = {write("big.csv", content)};
  options.decoder_spec = "csv:columns=2,label=1";
  options.batch_size = 256;
  FileSource source(options);
  size_t rows = 0;
  int64_t last_line = 0;
  while (auto batch = source.next()) {
    EXPECT_LE(batch->size, 256u);
    for (size_t i = 0; i < batch->size; ++i) {
      EXPECT_EQ(batch->features[i], static_cast<float>(rows + i));
      EXPECT_EQ(batch->meta[i].offset, last_line + 1);
      last_line = batch->meta[i].offset;
    }
    rows += batch->size;
  }
  EXPECT_EQ(rows, 10000u);
}

}  // namespace
}  // namespace streamml::data
