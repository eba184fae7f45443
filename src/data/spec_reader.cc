// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/spec_reader.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "streamml/common/error.h"

namespace streamml::data::internal {

std::string spec_context(std::string_view text) {
  return "decoder spec " + quote_value(text) + ": ";
}

SpecReader::SpecReader(const DecoderSpec& spec, std::vector<std::string_view> known,
                       std::string_view form)
    : spec_(spec), known_(std::move(known)), form_(form), used_(spec.options().size(), false) {}

void SpecReader::fail(std::string_view key, std::string_view why) const {
  throw ConfigError(spec_context(spec_.text()) + "option '" + std::string(key) + "': " +
                    std::string(why) + " (expected: " + form_ + ")");
}

const SpecOption* SpecReader::take(std::string_view key) {
  const auto& options = spec_.options();
  for (size_t i = 0; i < options.size(); ++i) {
    if (options[i].key == key) {
      used_[i] = true;
      return &options[i];
    }
  }
  return nullptr;
}

bool SpecReader::flag(std::string_view key) {
  const SpecOption* option = take(key);
  if (option == nullptr) return false;
  if (option->has_value) fail(key, "is a flag and takes no value");
  return true;
}

std::optional<std::string> SpecReader::scalar(std::string_view key) {
  const SpecOption* option = take(key);
  if (option == nullptr) return std::nullopt;
  if (!option->has_value || option->value.empty()) fail(key, "needs a value");
  try {
    return spec_unescape(option->value);
  } catch (const ConfigError& e) {
    fail(key, e.what());
  }
}

std::optional<std::vector<std::string>> SpecReader::list(std::string_view key) {
  const SpecOption* option = take(key);
  if (option == nullptr) return std::nullopt;
  if (!option->has_value || option->value.empty()) fail(key, "needs a value");
  std::vector<std::string> items;
  std::string_view value = option->value;
  size_t start = 0;
  while (true) {
    size_t plus = value.find('+', start);
    if (plus == std::string_view::npos) plus = value.size();
    std::string_view item = value.substr(start, plus - start);
    if (item.empty()) fail(key, "has an empty item in " + quote_value(value));
    try {
      items.push_back(spec_unescape(item));
    } catch (const ConfigError& e) {
      fail(key, e.what());
    }
    if (plus == value.size()) break;
    start = plus + 1;
  }
  return items;
}

std::optional<size_t> SpecReader::size(std::string_view key, size_t min, size_t max) {
  std::optional<std::string> text = scalar(key);
  if (!text) return std::nullopt;
  std::optional<size_t> n = parse_index(*text);
  if (!n || *n < min || *n > max) {
    fail(key, fmt::format("{} is not an integer in [{}, {}]", quote_value(*text), min, max));
  }
  return n;
}

MissingPolicy SpecReader::missing() {
  std::optional<std::string> text = scalar("missing");
  if (!text) return MissingPolicy::kError;
  try {
    return parse_missing_policy(*text);
  } catch (const ConfigError&) {
    fail("missing", quote_value(*text) + " is not a policy; use error, zero or nan");
  }
}

void SpecReader::finish() {
  const auto& options = spec_.options();
  for (size_t i = 0; i < options.size(); ++i) {
    if (used_[i]) continue;
    std::string names;
    for (std::string_view k : known_) names += (names.empty() ? "" : ", ") + std::string(k);
    throw ConfigError(spec_context(spec_.text()) + "unknown option '" + options[i].key +
                      "' for " + spec_.format() + " (known: " + names + "; form: " + form_ + ")");
  }
}

std::optional<size_t> parse_index(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

std::optional<std::pair<size_t, size_t>> parse_range(std::string_view text, bool* bad) {
  const size_t dots = text.find("..");
  if (dots == std::string_view::npos) return std::nullopt;
  std::optional<size_t> a = parse_index(text.substr(0, dots));
  std::optional<size_t> b = parse_index(text.substr(dots + 2));
  if (!a || !b) return std::nullopt;
  if (*b < *a) {
    if (bad != nullptr) *bad = true;
    return std::nullopt;
  }
  return std::make_pair(*a, *b);
}

std::string format_index_list(const std::vector<size_t>& indices) {
  std::string out;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!out.empty()) out += '+';
    if (j - i >= 1) {
      out += fmt::format("{}..{}", indices[i], indices[j]);
    } else {
      out += std::to_string(indices[i]);
    }
    i = j + 1;
  }
  return out;
}

std::string join_items(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += '+';
    out += spec_escape(item);
  }
  return out;
}

std::string quote_value(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  const size_t n = std::min(text.size(), kMax);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else {
        out += fmt::format("\\x{:02x}", c);
      }
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out += '"';
  if (text.size() > kMax) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

float missing_value(MissingPolicy policy) {
  return policy == MissingPolicy::kNan ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
}

}  // namespace streamml::data::internal
