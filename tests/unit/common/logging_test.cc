// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/logging.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "streamml/common/error.h"

namespace streamml {
namespace {

TEST(Logging, ParsesLevelsAndRejectsUnknownNamingTheValue) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::kWarn);
  try {
    parse_log_level("loud");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'loud'"), std::string::npos);
  }
}

TEST(Logging, SinkReceivesMessagesAtOrAboveLevel) {
  std::vector<std::string> seen;
  set_log_sink([&](LogLevel, std::string_view m) { seen.emplace_back(m); });
  set_log_level(LogLevel::kWarn);
  log_info("hidden {}", 1);
  log_warn("shown {}", 2);
  set_log_sink(nullptr);
  set_log_level(LogLevel::kInfo);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "shown 2");
}

}  // namespace
}  // namespace streamml
