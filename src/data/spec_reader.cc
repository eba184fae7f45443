// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/spec_reader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "data/plain_decimal.h"
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

bool is_blank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

namespace {

// The scalar form of parse_plain_decimal, for numbers near the end of the
// text and digit runs longer than the word-at-a-time path takes.
const char* parse_plain_decimal_scalar(const char* p, const char* last, bool negative, float& out) {
  uint64_t mantissa = 0;
  int digits = 0;
  int decimals = 0;
  for (; p < last && *p >= '0' && *p <= '9'; ++p, ++digits) mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
  if (digits == 0) return nullptr;
  if (p < last && *p == '.') {
    ++p;
    for (; p < last && *p >= '0' && *p <= '9'; ++p, ++decimals) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
    }
    if (decimals == 0) return nullptr;
  }
  if (p < last && (*p == 'e' || *p == 'E' || *p == '.' || (*p >= '0' && *p <= '9'))) return nullptr;
  if (digits + decimals > 19 || decimals > 10 || mantissa > kMaxExactMantissa) return nullptr;
  // Both operands are exact floats: one IEEE division rounds correctly.
  out = with_sign(static_cast<float>(mantissa) / kExactPow10[decimals], negative);
  return p;
}

}  // namespace

const char* parse_plain_decimal(const char* first, const char* last, float& out) {
  const char* p = first;
  const bool negative = p < last && *p == '-';
  p += negative;
  // Word at a time when two 8-byte loads stay inside the text: up to 7
  // integer digits, then up to 7 decimals, with no branch per digit.
  if (last - p >= 16) {
    uint64_t int_digits;
    const int n = leading_digits(load8(p), int_digits);
    if (n == 0) return nullptr;
    if (n < 8) {
      uint64_t mantissa = digits_value(int_digits, n);
      const char* q = p + n;
      int decimals = 0;
      if (*q == '.') {
        uint64_t frac_digits;
        decimals = leading_digits(load8(q + 1), frac_digits);
        if (decimals == 0) return nullptr;
        if (decimals < 8) {
          mantissa = mantissa * kPow10[decimals] + digits_value(frac_digits, decimals);
          q += 1 + decimals;
        } else {
          decimals = -1;  // eight or more decimals: the scalar loop
        }
      }
      if (decimals >= 0) {
        // *q is not a digit; the caller checks that it ends the field.
        if (*q == 'e' || *q == 'E' || *q == '.' || mantissa > kMaxExactMantissa) return nullptr;
        out = with_sign(static_cast<float>(mantissa) / kExactPow10[decimals], negative);
        return q;
      }
    }
  }
  return parse_plain_decimal_scalar(p, last, negative, out);
}

bool parse_float(std::string_view text, float& out) {
  const char* first = text.data();
  const char* last = first + text.size();
  while (first < last && (*first == ' ' || *first == '\t')) ++first;
  while (last > first && (last[-1] == ' ' || last[-1] == '\t')) --last;
  if (first == last) return false;
  if (parse_plain_decimal(first, last, out) == last) return true;
  if (*first == '+') {
    ++first;
    if (first == last || *first == '-' || *first == '+') return false;
  }
  auto [ptr, ec] = std::from_chars(first, last, out, std::chars_format::general);
  if (ec == std::errc() && ptr == last) return true;
  if (ec == std::errc::result_out_of_range) {
    // Beyond float's range: parse as double and let the cast saturate to
    // +-inf or flush to (signed) zero.
    double d = 0;
    auto [dptr, dec] = std::from_chars(first, last, d, std::chars_format::general);
    if (dptr != last) return false;
    if (dec == std::errc::result_out_of_range) {
      // Beyond double too: the sign decides between inf and 0 by the
      // exponent's sign, which from_chars does not tell; look at it.
      std::string_view s(first, static_cast<size_t>(last - first));
      const size_t e = s.find_first_of("eE");
      const bool negative_exp = e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
      const bool negative = s[0] == '-';
      out = negative_exp ? (negative ? -0.0f : 0.0f)
                         : (negative ? -std::numeric_limits<float>::infinity()
                                     : std::numeric_limits<float>::infinity());
      return true;
    }
    out = static_cast<float>(d);
    return true;
  }
  const std::string_view s(first, static_cast<size_t>(last - first));
  if (s == "true") {
    out = 1.0f;
    return true;
  }
  if (s == "false") {
    out = 0.0f;
    return true;
  }
  return false;
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

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = byte(i) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);  // tolerate padding
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace streamml::data::internal
