// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/prequential.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "streamml/common/error.h"

namespace streamml::train {
namespace {

model::Predictions binary_predictions(const std::vector<float>& p) {
  model::Predictions out;
  out.task = model::Task::binary();
  out.size = p.size();
  out.values = p;
  for (float v : p) out.classes.push_back(v >= 0.5f ? 1 : 0);
  return out;
}

TEST(Prequential, BinaryWindowAndFadedMetricsMatchHandComputedValues) {
  PrequentialEvaluator eval(model::Task::binary(), PrequentialOptions{/*window=*/3, /*fading=*/0.5});
  // Errors 0 1 1 0; log losses -ln 0.9, -ln 0.2, -ln 0.4, -ln 0.7.
  std::vector<float> y = {1, 1, 0, 0};
  std::vector<double> errors;
  eval.add(binary_predictions({0.9f, 0.2f, 0.6f, 0.3f}), y.data(), &errors);
  EXPECT_EQ(errors, (std::vector<double>{0, 1, 1, 0}));
  const Metrics m = eval.metrics();
  const double l1 = -std::log(0.9), l2 = -std::log(0.2), l3 = -std::log(0.4), l4 = -std::log(0.7);
  EXPECT_DOUBLE_EQ(m.at("preq_records"), 4);
  // Window: the last 3 records.
  EXPECT_DOUBLE_EQ(m.at("preq_accuracy"), 1.0 / 3.0);
  EXPECT_NEAR(m.at("preq_loss"), (l2 + l3 + l4) / 3.0, 1e-6);
  // The one positive (0.2) ranks below both negatives (0.6, 0.3).
  EXPECT_DOUBLE_EQ(m.at("preq_auc"), 0.0);
  // Faded, weights 1/8, 1/4, 1/2, 1 (sum 1.875).
  EXPECT_DOUBLE_EQ(m.at("preq_faded_accuracy"), 1.0 - 0.75 / 1.875);
  EXPECT_NEAR(m.at("preq_faded_loss"), (l1 / 8 + l2 / 4 + l3 / 2 + l4) / 1.875, 1e-6);
  // Positives 0.9 (1/8), 0.2 (1/4); negatives 0.6 (1/2), 0.3 (1): only 0.9 wins, over 1.5 of weight.
  EXPECT_NEAR(m.at("preq_faded_auc"), (0.125 * 1.5) / (0.375 * 1.5), 1e-12);
}

TEST(Prequential, WindowedAucIsExactWithTiesCountingOneHalf) {
  PrequentialEvaluator eval(model::Task::binary(), PrequentialOptions{/*window=*/10, /*fading=*/1.0});
  std::vector<float> y = {1, 0, 1, 0};
  eval.add(binary_predictions({0.8f, 0.8f, 0.4f, 0.1f}), y.data());
  // Pairs (pos, neg): (0.8, 0.8) 0.5, (0.8, 0.1) 1, (0.4, 0.8) 0, (0.4, 0.1) 1.
  EXPECT_DOUBLE_EQ(eval.metrics().at("preq_auc"), 2.5 / 4.0);
  // Fading 1: the faded metrics are the means since the start.
  EXPECT_DOUBLE_EQ(eval.metrics().at("preq_faded_accuracy"), 0.5);
}

TEST(Prequential, AucIsAbsentWhileOneClassIsMissing) {
  PrequentialEvaluator eval(model::Task::binary());
  std::vector<float> y = {1, 1};
  eval.add(binary_predictions({0.3f, 0.9f}), y.data());
  EXPECT_EQ(eval.metrics().count("preq_auc"), 0u);
  EXPECT_EQ(eval.metrics().count("preq_faded_auc"), 0u);
  EXPECT_DOUBLE_EQ(eval.metrics().at("preq_accuracy"), 0.5);
}

TEST(Prequential, MulticlassAccuracyAndLogLoss) {
  model::Predictions p;
  p.task = model::Task::multiclass(3);
  p.size = 3;
  p.values = {0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f, 0.0f, 1.0f, 0.0f};
  p.classes = {0, 2, 1};
  std::vector<float> y = {0, 1, 2};
  PrequentialEvaluator eval(p.task);
  std::vector<double> errors;
  eval.add(p, y.data(), &errors);
  EXPECT_EQ(errors, (std::vector<double>{0, 1, 1}));
  const Metrics m = eval.metrics();
  EXPECT_DOUBLE_EQ(m.at("preq_accuracy"), 1.0 / 3.0);
  // A probability of 0 for the true class is clamped to kMinProbability.
  const double expected = (-std::log(0.7) - std::log(0.3) - std::log(PrequentialEvaluator::kMinProbability)) / 3.0;
  EXPECT_NEAR(m.at("preq_loss"), expected, 1e-6);
  EXPECT_EQ(m.count("preq_auc"), 0u);
}

TEST(Prequential, RegressionMaeAndRmseOverTheWindow) {
  model::Predictions p;
  p.task = model::Task::regression();
  p.size = 4;
  p.values = {1, 2, 3, 4};
  std::vector<float> y = {1, 4, 3, 0};  // errors 0 2 0 4
  PrequentialEvaluator all(p.task, PrequentialOptions{/*window=*/4, /*fading=*/1.0});
  all.add(p, y.data());
  EXPECT_DOUBLE_EQ(all.metrics().at("preq_mae"), 1.5);
  EXPECT_DOUBLE_EQ(all.metrics().at("preq_rmse"), std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(all.metrics().at("preq_loss"), 5.0);
  EXPECT_DOUBLE_EQ(all.metrics().at("preq_faded_rmse"), std::sqrt(5.0));
  PrequentialEvaluator last_two(p.task, PrequentialOptions{/*window=*/2, /*fading=*/0.5});
  std::vector<double> errors;
  last_two.add(p, y.data(), &errors);
  EXPECT_EQ(errors, (std::vector<double>{0, 2, 0, 4}));
  EXPECT_DOUBLE_EQ(last_two.metrics().at("preq_mae"), 2.0);
  EXPECT_DOUBLE_EQ(last_two.metrics().at("preq_rmse"), std::sqrt(8.0));
  // Faded MAE: (0/8 + 2/4 + 0/2 + 4) / 1.875.
  EXPECT_DOUBLE_EQ(last_two.metrics().at("preq_faded_mae"), 4.5 / 1.875);
}

TEST(Prequential, LongStreamsKeepExactWindowSumsAndFiniteFadedAuc) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0, 1);
  PrequentialEvaluator eval(model::Task::binary(), PrequentialOptions{/*window=*/100, /*fading=*/0.99});
  std::vector<float> scores, labels;
  for (int i = 0; i < 200000; ++i) {
    const float label = u(rng) < 0.5f ? 1.0f : 0.0f;
    const float score = std::clamp(0.6f * u(rng) + 0.4f * label, 0.0f, 1.0f);
    eval.add(binary_predictions({score}), &label);
    scores.push_back(score);
    labels.push_back(label);
  }
  int correct = 0;
  for (size_t i = scores.size() - 100; i < scores.size(); ++i) correct += (scores[i] >= 0.5f) == (labels[i] > 0.5f);
  const Metrics m = eval.metrics();
  EXPECT_DOUBLE_EQ(m.at("preq_accuracy"), correct / 100.0);
  // 0.99^-200000 overflows a double many times over: the weights were rescaled.
  ASSERT_TRUE(std::isfinite(m.at("preq_faded_auc")));
  EXPECT_GT(m.at("preq_faded_auc"), 0.8);
}

// The same metrics up to rounding (the window sums are added in another order).
void expect_same_metrics(const Metrics& a, const Metrics& b) {
  ASSERT_EQ(a.size(), b.size());
  // The faded AUC's weights are saved as floats.
  for (const auto& [name, value] : a) EXPECT_NEAR(b.at(name), value, name == "preq_faded_auc" ? 1e-6 : 1e-12) << name;
}

TEST(Prequential, StateRoundTripsAndContinuesIdentically) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0, 1);
  PrequentialOptions options{/*window=*/50, /*fading=*/0.98};
  PrequentialEvaluator original(model::Task::binary(), options);
  auto step = [&](PrequentialEvaluator& a, PrequentialEvaluator* b) {
    const float label = u(rng) < 0.3f ? 1.0f : 0.0f;
    const float score = u(rng);
    a.add(binary_predictions({score}), &label);
    if (b != nullptr) b->add(binary_predictions({score}), &label);
  };
  for (int i = 0; i < 123; ++i) step(original, nullptr);
  PrequentialEvaluator restored(model::Task::binary(), options);
  restored.restore(original.state());
  expect_same_metrics(restored.metrics(), original.metrics());
  EXPECT_EQ(restored.state(), original.state());
  for (int i = 0; i < 77; ++i) step(original, &restored);
  expect_same_metrics(restored.metrics(), original.metrics());
  EXPECT_EQ(restored.count(), 200);

  PrequentialEvaluator regression(model::Task::regression());
  EXPECT_THROW(regression.restore(original.state()), InputError);
  EXPECT_THROW(regression.restore("nonsense"), InputError);
}

TEST(Prequential, MulticlassAndRegressionStatesRoundTrip) {
  model::Predictions m;
  m.task = model::Task::multiclass(3);
  m.size = 3;
  m.values = {0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f, 0.0f, 1.0f, 0.0f};
  m.classes = {0, 2, 1};
  std::vector<float> y = {0, 1, 2};
  PrequentialEvaluator multiclass(m.task, PrequentialOptions{/*window=*/2, /*fading=*/0.9});
  multiclass.add(m, y.data());
  PrequentialEvaluator restored(m.task, PrequentialOptions{/*window=*/2, /*fading=*/0.9});
  restored.restore(multiclass.state());
  expect_same_metrics(restored.metrics(), multiclass.metrics());
  EXPECT_EQ(restored.state(), multiclass.state());

  model::Predictions r;
  r.task = model::Task::regression();
  r.size = 3;
  r.values = {1.5f, -2.25f, 3.0f};
  std::vector<float> z = {1.0f, 0.1f, 3.0f};
  PrequentialEvaluator regression(r.task);
  regression.add(r, z.data());
  PrequentialEvaluator again(r.task);
  again.restore(regression.state());
  expect_same_metrics(again.metrics(), regression.metrics());
  EXPECT_THROW(again.restore(multiclass.state()), InputError);
}

TEST(Prequential, InvalidOptionsAreRefused) {
  EXPECT_THROW(PrequentialEvaluator(model::Task::binary(), PrequentialOptions{0, 0.9}), ConfigError);
  EXPECT_THROW(PrequentialEvaluator(model::Task::binary(), PrequentialOptions{10, 0.0}), ConfigError);
  EXPECT_THROW(PrequentialEvaluator(model::Task::binary(), PrequentialOptions{10, 1.5}), ConfigError);
}

}  // namespace
}  // namespace streamml::train
