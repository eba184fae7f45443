// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/drift.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "streamml/common/error.h"

namespace streamml::train {
namespace {

// A 0/1 error stream: error rate `before` up to record `change_at`, then `after`.
std::vector<double> error_stream(uint64_t seed, int64_t n, int64_t change_at, double before, double after) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.push_back(uniform(random) < (i < change_at ? before : after) ? 1.0 : 0.0);
  return out;
}

DriftDetectorOptions options_for(DriftDetectorKind kind) {
  DriftDetectorOptions o;
  o.kind = kind;
  return o;
}

// The first alarm at or after `from`, or -1.
int64_t first_alarm(DriftDetector& detector, const std::vector<double>& values, int64_t from = 0) {
  int64_t found = -1;
  for (size_t i = 0; i < values.size(); ++i) {
    if (detector.update(values[i]) && found < 0 && static_cast<int64_t>(i) >= from) found = static_cast<int64_t>(i);
  }
  return found;
}

double median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? static_cast<double>(v[v.size() / 2])
                      : (static_cast<double>(v[v.size() / 2 - 1]) + static_cast<double>(v[v.size() / 2])) / 2.0;
}

// Detects a jump of the error rate from 0.2 to 0.6 at record 5000 in every
// one of 20 seeds, within `max_delay` records, and prints the delays.
void expect_abrupt_change_detected(DriftDetectorKind kind, int64_t max_delay, int max_early = 1) {
  constexpr int64_t kChangeAt = 5000;
  constexpr int kSeeds = 20;
  std::vector<int64_t> delays;
  int early = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    auto detector = make_drift_detector(options_for(kind));
    const std::vector<double> values = error_stream(seed, 10000, kChangeAt, 0.2, 0.6);
    std::vector<double> head(values.begin(), values.begin() + kChangeAt);
    std::vector<double> tail(values.begin() + kChangeAt, values.end());
    if (first_alarm(*detector, head) >= 0) ++early;
    const int64_t alarm = first_alarm(*detector, tail);
    ASSERT_GE(alarm, 0) << drift_detector_name(kind) << " missed the change, seed " << seed;
    delays.push_back(alarm + 1);
  }
  const int64_t worst = *std::max_element(delays.begin(), delays.end());
  std::printf(
      "[ rates    ] %s: error 0.2 -> 0.6: detected in %d/%d seeds, delay median %.1f max %lld records; "
      "%d/%d seeds alarmed before the change\n",
      drift_detector_name(kind).c_str(), kSeeds, kSeeds, median(delays), static_cast<long long>(worst), early, kSeeds);
  EXPECT_LE(worst, max_delay) << drift_detector_name(kind);
  EXPECT_LE(early, max_early) << drift_detector_name(kind);
}

TEST(Drift, AdwinDetectsAnAbruptChangeOfTheMeanWithinABoundedDelay) {
  expect_abrupt_change_detected(DriftDetectorKind::kAdwin, 200);
}

TEST(Drift, PageHinkleyDetectsAnAbruptChangeOfTheMeanWithinABoundedDelay) {
  expect_abrupt_change_detected(DriftDetectorKind::kPageHinkley, 250);
}

TEST(Drift, DdmDetectsAnAbruptChangeOfTheMeanWithinABoundedDelay) {
  // DDM compares with the best error rate seen since its restart, so on a
  // stationary stream it alarms more often than ADWIN: reported, loosely bounded.
  expect_abrupt_change_detected(DriftDetectorKind::kDdm, 3000, /*max_early=*/10);
}

// 20 seeds of 100,000 records with a constant error rate.
int seeds_with_false_alarms(const DriftDetectorOptions& options, double rate, int64_t* alarms_total) {
  constexpr int kSeeds = 20;
  int alarmed = 0;
  *alarms_total = 0;
  for (int seed = 100; seed < 100 + kSeeds; ++seed) {
    auto detector = make_drift_detector(options);
    for (double v : error_stream(seed, 100000, 100000, rate, rate)) detector->update(v);
    if (detector->detections() > 0) ++alarmed;
    *alarms_total += detector->detections();
  }
  const double delta = options.kind == DriftDetectorKind::kPageHinkley ? options.ph_delta : options.delta;
  std::printf(
      "[ rates    ] %s delta=%g: error rate %.2f, 100000 stationary records: false alarms in %d/%d seeds "
      "(%lld alarms in all)\n",
      drift_detector_name(options.kind).c_str(), delta, rate, alarmed, kSeeds, static_cast<long long>(*alarms_total));
  return alarmed;
}

TEST(Drift, AdwinRaisesNoAlarmOnAStationaryStreamAtDelta0002) {
  int64_t total = 0;
  // Goal: no alarm in at least 9 of 10 seeds, so at most 2 of 20.
  EXPECT_LE(seeds_with_false_alarms(options_for(DriftDetectorKind::kAdwin), 0.2, &total), 2);
  EXPECT_LE(seeds_with_false_alarms(options_for(DriftDetectorKind::kAdwin), 0.05, &total), 2);
}

TEST(Drift, PageHinkleyRaisesNoAlarmOnAStationaryStreamWithItsDefaults) {
  int64_t total = 0;
  DriftDetectorOptions o = options_for(DriftDetectorKind::kPageHinkley);
  EXPECT_LE(seeds_with_false_alarms(o, 0.2, &total), 2);
  // River's defaults (delta 0.005, alpha 0.9999) tolerate too small a
  // change for a 0/1 error stream: the faded sum alarms on noise.
  o.ph_delta = 0.005;
  o.ph_alpha = 0.9999;
  seeds_with_false_alarms(o, 0.2, &total);
}

TEST(Drift, AdwinWindowHoldsTheMeanAndVarianceOfItsValues) {
  Adwin adwin;
  std::mt19937_64 random(7);
  std::normal_distribution<double> normal(3.0, 2.0);
  std::vector<double> values;
  for (int i = 0; i < 777; ++i) {
    values.push_back(normal(random));
    ASSERT_FALSE(adwin.update(values.back()));
  }
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double variance = 0;
  for (double v : values) variance += (v - mean) * (v - mean);
  variance /= static_cast<double>(values.size());
  EXPECT_EQ(adwin.width(), 777);
  EXPECT_NEAR(adwin.mean(), mean, 1e-9);
  EXPECT_NEAR(adwin.variance(), variance, 1e-9);
  // The exponential histogram: at most max_buckets per size, about log2(777) sizes.
  EXPECT_LE(adwin.buckets(), 5u * 10u);
}

TEST(Drift, AdwinDropsTheOldConceptFromItsWindowAfterAChange) {
  Adwin adwin;
  for (double v : error_stream(3, 4000, 4000, 0.1, 0.1)) adwin.update(v);
  EXPECT_EQ(adwin.width(), 4000);
  int64_t after = 0;
  for (double v : error_stream(4, 3000, 0, 0.1, 0.7)) {
    adwin.update(v);
    ++after;
  }
  EXPECT_GE(adwin.detections(), 1);
  EXPECT_NEAR(adwin.mean(), 0.7, 0.1);
  EXPECT_LT(adwin.width(), 4000 + after);
}

TEST(Drift, AdwinAlarmsOnAFallingMeanOnlyWhenTwoSided) {
  const std::vector<double> falling = error_stream(21, 8000, 4000, 0.5, 0.1);
  DriftDetectorOptions o;
  Adwin one_sided(o);
  EXPECT_EQ(first_alarm(one_sided, falling), -1);
  // The window still forgets the old error rate.
  EXPECT_NEAR(one_sided.mean(), 0.1, 0.05);
  o.adwin_two_sided = true;
  Adwin two_sided(o);
  EXPECT_GE(first_alarm(two_sided, falling), 4000);
}

void expect_state_round_trip(DriftDetectorKind kind) {
  const std::vector<double> values = error_stream(11, 12000, 6000, 0.15, 0.5);
  auto original = make_drift_detector(options_for(kind));
  for (size_t i = 0; i < 5003; ++i) original->update(values[i]);
  const std::string saved = original->state();
  auto restored = make_drift_detector(options_for(kind));
  restored->restore(saved);
  EXPECT_EQ(restored->state(), saved);
  EXPECT_EQ(restored->updates(), original->updates());
  EXPECT_EQ(restored->detections(), original->detections());
  EXPECT_EQ(restored->width(), original->width());
  EXPECT_EQ(restored->mean(), original->mean());
  // The same decisions, at the same records, with the same statistics.
  for (size_t i = 5003; i < values.size(); ++i) {
    const bool a = original->update(values[i]);
    const bool b = restored->update(values[i]);
    ASSERT_EQ(a, b) << drift_detector_name(kind) << " at value " << i;
    ASSERT_EQ(original->statistic(), restored->statistic()) << i;
  }
  EXPECT_GE(original->detections(), 1) << drift_detector_name(kind);
  EXPECT_EQ(restored->state(), original->state());
}

TEST(Drift, AdwinStateRoundTripsAndContinuesIdentically) { expect_state_round_trip(DriftDetectorKind::kAdwin); }
TEST(Drift, PageHinkleyStateRoundTripsAndContinuesIdentically) {
  expect_state_round_trip(DriftDetectorKind::kPageHinkley);
}
TEST(Drift, DdmStateRoundTripsAndContinuesIdentically) { expect_state_round_trip(DriftDetectorKind::kDdm); }

TEST(Drift, AfterAnAlarmTheEstimateDescribesTheValuesThatRaisedIt) {
  for (DriftDetectorKind kind : {DriftDetectorKind::kAdwin, DriftDetectorKind::kPageHinkley, DriftDetectorKind::kDdm}) {
    auto detector = make_drift_detector(options_for(kind));
    const std::vector<double> values = error_stream(8, 10000, 5000, 0.1, 0.7);
    size_t i = 0;
    while (i < values.size() && !detector->update(values[i])) ++i;
    ASSERT_GE(i, 5000u) << drift_detector_name(kind);
    EXPECT_GT(detector->statistic(), 0.0) << drift_detector_name(kind);
    EXPECT_GT(detector->mean(), 0.1) << drift_detector_name(kind);
    EXPECT_GT(detector->width(), 0) << drift_detector_name(kind);
  }
}

TEST(Drift, RestoringAnotherDetectorsStateFailsNamingIt) {
  PageHinkley ph;
  ph.update(1.0);
  Adwin adwin;
  EXPECT_THROW(adwin.restore(ph.state()), InputError);
  EXPECT_THROW(adwin.restore(""), InputError);
  EXPECT_THROW(adwin.restore("adwin updates=1 width=1"), InputError);
  Adwin other;
  other.update(1.0);
  std::string broken = other.state();
  broken.replace(broken.find("width=1"), 7, "width=2");
  EXPECT_THROW(adwin.restore(broken), InputError);
}

TEST(Drift, NamesAndOptionsAreChecked) {
  EXPECT_EQ(parse_drift_detector("adwin"), DriftDetectorKind::kAdwin);
  EXPECT_EQ(parse_drift_detector("page-hinkley"), DriftDetectorKind::kPageHinkley);
  EXPECT_EQ(parse_drift_detector("ddm"), DriftDetectorKind::kDdm);
  EXPECT_EQ(parse_drift_detector("none"), DriftDetectorKind::kNone);
  EXPECT_THROW(parse_drift_detector("kswin"), ConfigError);
  EXPECT_EQ(make_drift_detector(options_for(DriftDetectorKind::kNone)), nullptr);
  DriftDetectorOptions o;
  o.delta = 0;
  EXPECT_THROW(Adwin{o}, ConfigError);
  o = {};
  o.ph_lambda = -1;
  EXPECT_THROW(PageHinkley{o}, ConfigError);
}

}  // namespace
}  // namespace streamml::train
