// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/predictions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "streamml/model/feature_stats.h"
#include "streamml/common/error.h"
#include "unit/model/synthetic.h"

namespace streamml::model {
namespace {

TEST(PredictionFormatting, BinaryJsonAndCsv) {
  Predictions p;
  p.task = Task::binary();
  p.size = 2;
  p.values = {0.25f, 0.875f};
  p.classes = {0, 1};
  EXPECT_EQ(format_json(p, 0), R"({"prediction":0,"probability":0.25})");
  EXPECT_EQ(format_json(p, 1), R"({"prediction":1,"probability":0.875})");
  EXPECT_EQ(format_csv(p, 1), "1,0.875");
  EXPECT_EQ(csv_header(p.task), "prediction,probability");
  EXPECT_EQ(format_json(p, 1, nullptr, {.include_probabilities = false}), R"({"prediction":1})");
  EXPECT_THROW(format_json(p, 2), std::out_of_range);
}

TEST(PredictionFormatting, MulticlassAndRegression) {
  Predictions m;
  m.task = Task::multiclass(3);
  m.size = 1;
  m.values = {0.125f, 0.5f, 0.375f};
  m.classes = {1};
  EXPECT_EQ(format_json(m, 0), R"({"prediction":1,"probabilities":[0.125,0.5,0.375]})");
  EXPECT_EQ(format_csv(m, 0), "1,0.125,0.5,0.375");
  EXPECT_EQ(csv_header(m.task), "prediction,p0,p1,p2");
  EXPECT_FLOAT_EQ(m.score(0), 0.5f);

  Predictions r;
  r.task = Task::regression();
  r.size = 1;
  r.values = {-3.5f};
  EXPECT_EQ(format_json(r, 0), R"({"prediction":-3.5})");
  EXPECT_EQ(format_csv(r, 0), "-3.5");
  EXPECT_EQ(csv_header(r.task), "prediction");
  EXPECT_DOUBLE_EQ(r.prediction(0), -3.5);
}

TEST(PredictionFormatting, SourceFieldsAreEscaped) {
  Predictions r;
  r.task = Task::regression();
  r.size = 1;
  r.values = {2.0f};
  data::RecordMeta meta;
  meta.topic = "in";
  meta.partition = 3;
  meta.offset = 42;
  meta.has_key = true;
  meta.key = "a\"b,c";
  PredictionFormat format{.include_source = true};
  EXPECT_EQ(format_json(r, 0, &meta, format),
            R"({"topic":"in","partition":3,"offset":42,"key":"a\"b,c","prediction":2})");
  EXPECT_EQ(format_csv(r, 0, &meta, format), "in,3,42,\"a\"\"b,c\",2");
  EXPECT_EQ(csv_header(r.task, format), "topic,partition,offset,key,prediction");
  meta.has_key = false;
  EXPECT_EQ(format_json(r, 0, &meta, format),
            R"({"topic":"in","partition":3,"offset":42,"key":null,"prediction":2})");
}

TEST(FeatureStats, MatchesTwoPassMeanAndStd) {
  data::Batch b;
  b.size = 4;
  b.num_features = 2;
  b.features = {1, 10, 2, 10, 3, 10, 4, 10};
  FeatureStatsAccumulator acc(2);
  acc.add(b);
  FeatureStats s = acc.finish();
  EXPECT_EQ(acc.count(), 4u);
  EXPECT_FLOAT_EQ(s.mean[0], 2.5f);
  EXPECT_FLOAT_EQ(s.std[0], std::sqrt(1.25f));
  EXPECT_FLOAT_EQ(s.mean[1], 10.0f);
  EXPECT_FLOAT_EQ(s.std[1], 1.0f);  // constant feature: never divide by 0
}

TEST(FeatureStats, RejectsWrongWidthAndNonFiniteNamingTheRecord) {
  data::Batch b;
  b.size = 1;
  b.num_features = 2;
  b.features = {1, std::numeric_limits<float>::infinity()};
  b.meta.push_back(testing::record_at("t", 1, 9));
  FeatureStatsAccumulator acc(2);
  try {
    acc.add(b);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t:1:9"), std::string::npos) << e.what();
  }
  FeatureStatsAccumulator three(3);
  EXPECT_THROW(three.add(b), InputError);
}

}  // namespace
}  // namespace streamml::model
