// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Field parsing shared by the demo's line formats (telemetry, results,
// rankings): every error names where the line came from, the field, its text
// and why it was rejected. Internal to examples/horse_race/src.
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>
#include <vector>

#include "streamml/common/error.h"

namespace streamml::demo::fields {

inline std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

[[noreturn]] inline void fail(std::string_view where, std::string_view field, std::string_view text, std::string_view why) {
  throw InputError(fmt::format("{}: field '{}' = '{}': {}", where, field, text, why));
}

template <typename Int>
Int parse_int(std::string_view text, std::string_view where, std::string_view field, Int lo, Int hi) {
  Int value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) fail(where, field, text, "out of range");
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) fail(where, field, text, "not an integer");
  if (value < lo || value > hi) fail(where, field, text, fmt::format("must be in [{}, {}]", lo, hi));
  return value;
}

inline double parse_double(std::string_view text, std::string_view where, std::string_view field, double lo, double hi) {
  double value = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) fail(where, field, text, "not a number");
  if (!std::isfinite(value)) fail(where, field, text, "not finite");
  if (value < lo || value > hi) fail(where, field, text, fmt::format("must be in [{}, {}]", lo, hi));
  return value;
}

}  // namespace streamml::demo::fields
