// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/model/model_spec.h"
#include "streamml/model/record_check.h"
#include "streamml/model/task.h"

namespace streamml::model {
namespace {

std::string config_error(auto&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

TEST(Task, ParsesAndPrintsCanonicalSpecs) {
  EXPECT_EQ(parse_task("binary"), Task::binary());
  EXPECT_EQ(parse_task("regression"), Task::regression());
  Task k = parse_task("multiclass:5");
  EXPECT_EQ(k.kind, TaskKind::kMulticlass);
  EXPECT_EQ(k.num_classes, 5);
  EXPECT_EQ(k.output_size(), 5);
  EXPECT_EQ(k.to_string(), "multiclass:5");
  EXPECT_EQ(Task::binary().output_size(), 1);
  EXPECT_EQ(parse_task(Task::regression().to_string()), Task::regression());
}

TEST(Task, RejectsInvalidSpecsNamingTheValue) {
  EXPECT_NE(config_error([] { parse_task("ranking"); }).find("'ranking'"), std::string::npos);
  EXPECT_NE(config_error([] { parse_task("multiclass:1"); }).find("'multiclass:1'"), std::string::npos);
  EXPECT_NE(config_error([] { parse_task("multiclass:x"); }).find("'x'"), std::string::npos);
  EXPECT_NE(config_error([] { parse_task("multiclass:"); }), "<no ConfigError>");
}

TEST(Task, ChecksLabels) {
  EXPECT_EQ(Task::binary().check_label(1.0f), "");
  EXPECT_EQ(Task::binary().check_label(0.0f), "");
  EXPECT_NE(Task::binary().check_label(0.5f).find("0.5"), std::string::npos);
  EXPECT_EQ(Task::multiclass(3).check_label(2.0f), "");
  EXPECT_NE(Task::multiclass(3).check_label(7.0f).find("multiclass:3"), std::string::npos);
  EXPECT_NE(Task::multiclass(3).check_label(-1.0f), "");
  EXPECT_NE(Task::multiclass(3).check_label(1.5f), "");
  EXPECT_EQ(Task::regression().check_label(-123.25f), "");
  EXPECT_NE(Task::regression().check_label(std::nanf("")), "");
}

TEST(ModelSpec, ParsesHiddenLayersAndOptions) {
  ModelSpec s = parse_model_spec("mlp:128,64");
  EXPECT_EQ(s.hidden, (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(s.activation, Activation::kRelu);
  EXPECT_EQ(s.dropout, 0.0);
  ModelSpec g = parse_model_spec("mlp:16;activation=gelu;dropout=0.25");
  EXPECT_EQ(g.hidden, (std::vector<int64_t>{16}));
  EXPECT_EQ(g.activation, Activation::kGelu);
  EXPECT_DOUBLE_EQ(g.dropout, 0.25);
  EXPECT_TRUE(parse_model_spec("linear").hidden.empty());
  // Canonical form round-trips.
  EXPECT_EQ(parse_model_spec(g.to_string()), g);
  EXPECT_EQ(parse_model_spec(parse_model_spec("mlp:3,2;activation=tanh").to_string()).activation,
            Activation::kTanh);
}

TEST(ModelSpec, RejectsInvalidSpecsNamingThePart) {
  EXPECT_NE(config_error([] { parse_model_spec("cnn:3"); }).find("'cnn:3'"), std::string::npos);
  EXPECT_NE(config_error([] { parse_model_spec("mlp:12,0"); }).find("'0'"), std::string::npos);
  EXPECT_NE(config_error([] { parse_model_spec("mlp:12,a"); }).find("'a'"), std::string::npos);
  EXPECT_NE(config_error([] { parse_model_spec("mlp:8;activation=swish"); }).find("'swish'"),
            std::string::npos);
  EXPECT_NE(config_error([] { parse_model_spec("mlp:8;dropout=1.5"); }).find("dropout"),
            std::string::npos);
  EXPECT_NE(config_error([] { parse_model_spec("mlp:8;depth=3"); }).find("'depth'"), std::string::npos);
}

TEST(UsableRecordCheck, RejectsNonFiniteFeaturesAndLabelsOutsideTheTask) {
  const std::vector<float> good = {0.5f, -2.0f};
  const float one = 1.0f, seven = 7.0f, two = 2.0f;
  auto binary = usable_record_check(Task::binary(), {"a", "b"});
  EXPECT_FALSE(binary(good, {&one, 1}));
  EXPECT_EQ(binary(std::vector<float>{std::nanf(""), 1.0f}, {&one, 1}),
            "feature 'a' is nan (features must be finite numbers)");
  // 1e39 decodes to inf (beyond float range).
  EXPECT_EQ(binary(std::vector<float>{0.0f, std::stof("inf")}, {&one, 1}),
            "feature 'b' is inf (features must be finite numbers)");
  EXPECT_EQ(binary(good, {&seven, 1}), "label 7 is not 0 or 1 (task binary)");
  // Prediction: no label to check.
  EXPECT_FALSE(binary(good, {}));
  auto multiclass = usable_record_check(Task::multiclass(3));
  EXPECT_FALSE(multiclass(good, {&two, 1}));
  EXPECT_NE(multiclass(good, {&seven, 1}).value_or("").find("not a class of multiclass:3"), std::string::npos);
  EXPECT_EQ(multiclass(std::vector<float>{0.0f, -std::stof("inf")}, {}),
            "feature 1 is -inf (features must be finite numbers)");
  EXPECT_FALSE(usable_record_check(Task::regression())(good, {&seven, 1}));
}

}  // namespace
}  // namespace streamml::model
