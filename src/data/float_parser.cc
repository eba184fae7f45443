// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/float_parser.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace streamml::data::internal {

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

}  // namespace streamml::data::internal
