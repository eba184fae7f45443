// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// JSON text helpers for the train layer's writers (metrics log, Kafka
// callbacks). Internal to src/train.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <string_view>

namespace streamml::train::json {

// A JSON number, or null for NaN/infinity (JSON has neither).
inline std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  return fmt::format("{}", value);
}

// A quoted JSON string with quotes, backslashes and control bytes escaped.
inline std::string string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace streamml::train::json
