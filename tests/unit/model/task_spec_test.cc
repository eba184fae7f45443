// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "streamml/common/error.h"
#include "streamml/model/model_spec.h"
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

}  // namespace
}  // namespace streamml::model
