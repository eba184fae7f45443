// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "streamml/common/error.h"
#include "streamml/train/train_options.h"

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

double exact_auc(const std::vector<float>& p, const std::vector<float>& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    for (size_t j = 0; j < p.size(); ++j) {
      if (y[i] == 1 && y[j] == 0) {
        pairs += 1;
        wins += p[i] > p[j] ? 1 : (p[i] == p[j] ? 0.5 : 0);
      }
    }
  }
  return wins / pairs;
}

TEST(Metrics, BinaryAccuracyLossAndAuc) {
  MetricAccumulator acc(model::Task::binary());
  std::vector<float> p = {0.9f, 0.8f, 0.3f, 0.6f, 0.1f};
  std::vector<float> y = {1, 1, 0, 0, 0};
  acc.add(binary_predictions(p), y.data(), /*loss_sum=*/2.5);
  Metrics m = acc.metrics();
  EXPECT_DOUBLE_EQ(m.at("loss"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("accuracy"), 0.8);
  EXPECT_DOUBLE_EQ(m.at("auc"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("records"), 5);
  EXPECT_EQ(acc.metrics(/*with_auc=*/false).count("auc"), 0u);
}

TEST(Metrics, BinnedAucMatchesExactAuc) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> p, y;
  for (int i = 0; i < 2000; ++i) {
    float label = u(rng) < 0.4f ? 1.0f : 0.0f;
    p.push_back(std::clamp(0.5f * u(rng) + 0.3f * label, 0.0f, 1.0f));
    y.push_back(label);
  }
  MetricAccumulator acc(model::Task::binary());
  acc.add(binary_predictions(p), y.data(), 0);
  EXPECT_NEAR(acc.metrics().at("auc"), exact_auc(p, y), 1e-3);
}

TEST(Metrics, AucAbsentWithOneClass) {
  MetricAccumulator acc(model::Task::binary());
  std::vector<float> y = {1, 1};
  acc.add(binary_predictions({0.2f, 0.7f}), y.data(), 0);
  EXPECT_EQ(acc.metrics().count("auc"), 0u);
}

TEST(Metrics, RegressionMaeRmse) {
  model::Predictions p;
  p.task = model::Task::regression();
  p.size = 4;
  p.values = {1, 2, 3, 4};
  std::vector<float> y = {1, 4, 3, 0};
  MetricAccumulator acc(p.task);
  acc.add(p, y.data(), 0);
  Metrics m = acc.metrics();
  EXPECT_DOUBLE_EQ(m.at("mae"), 1.5);
  EXPECT_DOUBLE_EQ(m.at("rmse"), std::sqrt(20.0 / 4));
  EXPECT_EQ(m.count("accuracy"), 0u);
  EXPECT_EQ(main_metric(p.task), "rmse");
  EXPECT_EQ(main_metric(model::Task::multiclass(3)), "accuracy");
  EXPECT_TRUE(higher_is_better("val_auc"));
  EXPECT_FALSE(higher_is_better("val_loss"));
}

TEST(TrainOptions, ValidateNamesTheField) {
  TrainOptions o;
  EXPECT_NO_THROW(o.validate());
  o.learning_rate = 0;
  try {
    o.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("learning_rate"), std::string::npos);
  }
  o = TrainOptions{};
  o.epochs = 0;
  EXPECT_THROW(o.validate(), ConfigError);
  EXPECT_EQ(parse_optimizer("adamw"), OptimizerKind::kAdamW);
  try {
    parse_optimizer("rmsprop");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'rmsprop'"), std::string::npos);
  }
}

}  // namespace
}  // namespace streamml::train
