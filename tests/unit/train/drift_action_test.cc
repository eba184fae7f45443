// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/drift_action.h"

#include <gtest/gtest.h>

#include "streamml/common/error.h"

namespace streamml::train {
namespace {

TEST(DriftAction, ParsesEveryActionAndWritesItBack) {
  EXPECT_EQ(parse_drift_action("log").kind, DriftActionKind::kLog);
  EXPECT_EQ(parse_drift_action("reset-optimizer").kind, DriftActionKind::kResetOptimizer);
  EXPECT_EQ(parse_drift_action("reset-model").kind, DriftActionKind::kResetModel);
  const DriftAction boost = parse_drift_action("boost-lr=10:50");
  EXPECT_EQ(boost.kind, DriftActionKind::kBoostLr);
  EXPECT_DOUBLE_EQ(boost.factor, 10.0);
  EXPECT_EQ(boost.batches, 50);
  EXPECT_EQ(boost.to_string(), "boost-lr=10:50");
  EXPECT_EQ(parse_drift_action("boost-lr=2.5:3").to_string(), "boost-lr=2.5:3");
  const DriftAction retrain = parse_drift_action("retrain-window=500");
  EXPECT_EQ(retrain.kind, DriftActionKind::kRetrainWindow);
  EXPECT_EQ(retrain.records, 500);
  EXPECT_EQ(retrain.to_string(), "retrain-window=500");
}

TEST(DriftAction, InvalidActionsNameTheValue) {
  for (const char* bad : {"", "retrain", "log=1", "boost-lr", "boost-lr=10", "boost-lr=0:5", "boost-lr=x:5",
                          "boost-lr=2:0", "retrain-window=0", "retrain-window=-3", "reset-model=1"}) {
    try {
      parse_drift_action(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace streamml::train
