// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/concept_stream.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

TEST(ConceptStream, SeaLabelsFollowTheThresholdOfEachSegment) {
  ConceptStreamOptions o;
  o.kind = ConceptStreamKind::kSea;
  o.seed = 5;
  o.drift_at = {100, 200, 300};
  ConceptStream stream(o);
  const double thresholds[] = {8, 9, 7, 9.5};
  for (int i = 0; i < 400; ++i) {
    const ConceptSample s = stream.next();
    ASSERT_EQ(s.segment, i / 100);
    ASSERT_EQ(s.features.size(), 3u);
    for (float f : s.features) {
      ASSERT_GE(f, 0.0f);
      ASSERT_LE(f, 10.0f);
    }
    const double sum = static_cast<double>(s.features[0]) + static_cast<double>(s.features[1]);
    ASSERT_EQ(s.label, sum <= thresholds[s.segment] ? 1 : 0) << "record " << i;
  }
  EXPECT_EQ(stream.position(), 400);
}

TEST(ConceptStream, SeaConceptsCanBeChosenAndCycle) {
  ConceptStreamOptions o;
  o.drift_at = {10, 20};
  o.sea_concepts = {2, 3};
  ConceptStream stream(o);
  for (int i = 0; i < 30; ++i) {
    const ConceptSample s = stream.next();
    const double theta = (s.segment % 2 == 0) ? 7.0 : 9.5;
    ASSERT_EQ(s.label, s.features[0] + s.features[1] <= theta ? 1 : 0);
  }
}

TEST(ConceptStream, CsvLinesReadBackToTheSameRecordsAndSeedsRepeat) {
  ConceptStreamOptions o;
  o.seed = 9;
  ConceptStream a(o), b(o);
  o.seed = 10;
  ConceptStream c(o);
  int differ = 0;
  for (int i = 0; i < 50; ++i) {
    const ConceptSample s = a.next();
    const std::string line = b.next_csv();
    differ += c.next_csv() != line;
    std::stringstream in(line);
    std::string field;
    std::vector<std::string> fields;
    while (std::getline(in, field, ',')) fields.push_back(field);
    ASSERT_EQ(fields.size(), 4u) << line;
    for (int k = 0; k < 3; ++k) EXPECT_EQ(std::strtof(fields[k].c_str(), nullptr), s.features[k]) << line;
    EXPECT_EQ(fields[3], s.label ? "1" : "0");
  }
  EXPECT_GT(differ, 45);
}

TEST(ConceptStream, NoiseFlipsAboutThatShareOfLabels) {
  ConceptStreamOptions clean;
  clean.seed = 3;
  ConceptStreamOptions noisy = clean;
  noisy.noise = 0.1;
  ConceptStream a(clean), b(noisy);
  int flipped = 0;
  for (int i = 0; i < 20000; ++i) {
    const ConceptSample s = b.next();
    flipped += s.label != (s.features[0] + s.features[1] <= 8.0f ? 1 : 0);
  }
  EXPECT_NEAR(flipped / 20000.0, 0.1, 0.01);
}

TEST(ConceptStream, HyperplaneDrawsNewWeightsAtEachDrift) {
  ConceptStreamOptions o;
  o.kind = ConceptStreamKind::kHyperplane;
  o.hyperplane_features = 4;
  o.drift_at = {5000};
  o.seed = 2;
  ConceptStream stream(o);
  EXPECT_EQ(stream.num_features(), 4);
  // A fixed linear rule per segment: the records of one segment are
  // separable, so the share of positives is stable within it, and the
  // rules of the two segments disagree on a part of the space.
  int positives[2] = {0, 0};
  std::vector<ConceptSample> samples;
  for (int i = 0; i < 10000; ++i) {
    samples.push_back(stream.next());
    ASSERT_EQ(samples.back().features.size(), 4u);
    positives[samples.back().segment] += samples.back().label;
  }
  EXPECT_NEAR(positives[0] / 5000.0, 0.5, 0.1);
  EXPECT_NEAR(positives[1] / 5000.0, 0.5, 0.1);
  EXPECT_EQ(samples[4999].segment, 0);
  EXPECT_EQ(samples[5000].segment, 1);
}

TEST(ConceptStream, InvalidOptionsAreRefused) {
  ConceptStreamOptions o;
  o.drift_at = {10, 5};
  EXPECT_THROW(ConceptStream{o}, ConfigError);
  o = {};
  o.sea_concepts = {4};
  EXPECT_THROW(ConceptStream{o}, ConfigError);
  o = {};
  o.noise = 0.5;
  EXPECT_THROW(ConceptStream{o}, ConfigError);
  EXPECT_THROW(parse_concept_stream("stagger"), ConfigError);
  EXPECT_EQ(parse_concept_stream("hyperplane"), ConceptStreamKind::kHyperplane);
}

}  // namespace
}  // namespace streamml::data
