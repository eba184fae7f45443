// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Parsing decimal floats out of record text (internal to the decoders), the
// same way in every format. parse_float() takes any number; the plain
// decimal paths (-?[0-9]+(.[0-9]+)?, the common case of a CSV or JSON
// number) read 8 bytes per step without a branch per digit and are exact: a
// mantissa <= 2^24 and a power of ten <= 10^10 are both exact floats, so
// their one IEEE division is the correctly rounded value (Clinger's fast
// path), the float strtof and std::from_chars give. A mantissa up to 2^53
// (printf's "%f" gives 6 decimals, so 8 or more digits) is divided in double,
// exact in the same way, and the double rounded to float: that second
// rounding is right unless the double sits exactly halfway between two
// floats, the one case left to the general path. Inputs outside these cases
// go to the general path (std::from_chars). Pure functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace streamml::data::internal {

// Parses a decimal float the way every decoder does: surrounding spaces and
// tabs ignored, optional leading '+', nan/inf accepted, "true"/"false" as
// 1/0. False when empty or not entirely a number.
bool parse_float(std::string_view text, float& out);
// The common case of parse_float, on the start of [first, last): a plain
// decimal -?[0-9]+(.[0-9]+)? with a mantissa < 2^53 and <= 10 decimals,
// converted exactly (see decimal_to_float). Returns the end of the number, or
// nullptr when the text does not start with such a number (the caller then
// takes parse_float's general path).
const char* parse_plain_decimal(const char* first, const char* last, float& out);
// True when `text` is empty or only spaces/tabs.
bool is_blank(std::string_view text);

// Short fields with AVX2, four at a time, where the CPU has it (the CSV
// decoder's field loop). Field i of `n` runs from ends[i - 1] + 1 (0 for the
// first) to ends[i], with at least 9 bytes readable from its start (and,
// when n is not a multiple of 4, 16 bytes after ends[n - 1]). A field that is
// -?[0-9]{1,8} or -?[0-9]+.[0-9]+ of at most 8 bytes after the sign gets its
// float in values[i] (exactly as parse_plain_decimal_field gives it) and
// parsed[i] = 1; any other field gets parsed[i] = 0 and is left to the
// caller. values and parsed have room for n rounded up to a multiple of 4.
// Returns true when every field was parsed. Requires
// short_decimals_available().
bool parse_short_decimals(const char* data, const uint32_t* ends, size_t n, float* values, uint8_t* parsed);
bool short_decimals_available();

// Word-at-a-time pieces of the plain decimal paths, inline for the CSV
// decoder's field loop (parse_plain_decimal_field).

// Powers of ten that a float holds exactly (5^10 < 2^24).
inline constexpr float kExactPow10[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
inline constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
inline constexpr uint64_t kMaxExactMantissa = uint64_t{1} << 24;
inline constexpr uint64_t kMaxExactDoubleMantissa = uint64_t{1} << 53;

constexpr uint64_t repeat_byte(uint8_t b) { return 0x0101010101010101ull * b; }

// The 8 bytes at p as a little-endian word (byte 0 in the low bits).
inline uint64_t load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

// Of a word xor '0' (a digit byte becomes 0..9, any other byte > 9): the
// high bit of each byte that is > 9 (no carry crosses bytes: 0x7f + 0x76 <
// 0x100).
inline uint64_t non_digit_bytes(uint64_t digits) {
  return (((digits & repeat_byte(0x7f)) + repeat_byte(0x76)) | digits) & repeat_byte(0x80);
}

// Number of leading ASCII digits in the word's bytes (from byte 0), 8 when
// all eight are digits. `digits` gets the word with '0'..'9' mapped to 0..9.
inline int leading_digits(uint64_t word, uint64_t& digits) {
  digits = word ^ repeat_byte('0');
  const uint64_t non_digit = non_digit_bytes(digits);
  return non_digit == 0 ? 8 : std::countr_zero(non_digit) >> 3;
}

// The value of the first n (1..8) digits of a word from leading_digits.
inline uint64_t digits_value(uint64_t digits, int n) {
  // Move the n digits to the top bytes; the bytes below become leading zeros.
  uint64_t v = digits << (8 * (8 - n));
  // Pairs, then quads, then all eight (byte 0 is the most significant digit).
  v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffull;
  v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffull;
  return (v * 10000 + (v >> 32)) & 0xffffffffull;
}

// `value` negated when `negative`, without a branch (signs of data are
// random and would mispredict).
inline float with_sign(float value, bool negative) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(value) ^ (uint32_t{negative} << 31));
}

// mantissa / 10^decimals (decimals <= 10), negated when `negative`, rounded
// to the nearest float exactly as std::from_chars rounds the decimal. False
// when that cannot be done without the general path: a mantissa of 2^53 or
// more, or the rare double that lies exactly halfway between two floats.
inline bool decimal_to_float(uint64_t mantissa, int decimals, bool negative, float& out) {
  if (mantissa <= kMaxExactMantissa) {
    out = with_sign(static_cast<float>(mantissa) / kExactPow10[decimals], negative);
    return true;
  }
  if (mantissa >= kMaxExactDoubleMantissa) return false;
  // Both exact doubles: the quotient is the correctly rounded double. The
  // float nearest to it is the float nearest to the decimal unless the double
  // is a midpoint of two floats (its 29 bits below float precision are
  // 1000...0): any other double has no midpoint between it and the decimal.
  // (With <= 10 decimals and a mantissa < 2^53, a double on a midpoint comes
  // only from a decimal that is that midpoint, which ties-to-even rounds
  // right too; the check keeps exactness from resting on that argument.)
  const double d = static_cast<double>(mantissa) / static_cast<double>(kExactPow10[decimals]);  // exact widening
  if ((std::bit_cast<uint64_t>(d) & ((uint64_t{1} << 29) - 1)) == uint64_t{1} << 28) return false;
  out = with_sign(static_cast<float>(d), negative);
  return true;
}

// Parses the whole field [first, last) when it is a plain decimal with at
// most 7 integer digits and at most 7 decimals whose value is exact as above.
// Reads up to 17 bytes from `first` (the field and what follows): the caller
// makes sure they are readable. False: not such a number (take the general
// path).
inline bool parse_plain_decimal_field(const char* first, const char* last, float& out) {
  const bool negative = *first == '-';
  const char* p = first + negative;
  const int64_t length = last - p;
  if (length <= 0 || length > 15) return false;
  if (length <= 8) {
    // The common short field ("12.3456"): one word holds all of it. The
    // first non-digit must be the point; the digits after it move down one
    // byte to close the gap, and the word holds one number of length - 1
    // digits (or `length` digits when there is no point).
    const uint64_t digits = load8(p) ^ repeat_byte('0');
    const uint64_t non_digit = non_digit_bytes(digits) & (~uint64_t{0} >> (64 - 8 * length));
    if (non_digit == 0) {
      // An integer of at most 8 digits: one conversion, one rounding.
      out = with_sign(static_cast<float>(digits_value(digits, static_cast<int>(length))), negative);
      return true;
    }
    const int point = std::countr_zero(non_digit) >> 3;
    const int decimals = static_cast<int>(length) - point - 1;
    // One non-digit, the point, with digits on both sides.
    if (point == 0 || decimals == 0 || (non_digit & (non_digit - 1)) != 0 ||
        ((digits >> (8 * point)) & 0xff) != ('.' ^ '0')) {
      return false;
    }
    const uint64_t below = (uint64_t{1} << (8 * point)) - 1;
    const uint64_t joined = (digits & below) | ((digits >> 8) & ~below);
    // <= 7 digits: below 2^24, exact.
    out = with_sign(static_cast<float>(digits_value(joined, static_cast<int>(length) - 1)) / kExactPow10[decimals],
                    negative);
    return true;
  }
  uint64_t int_digits;
  const int n = leading_digits(load8(p), int_digits);
  if (n == 0 || n == 8) return false;
  uint64_t mantissa = digits_value(int_digits, n);
  int decimals = 0;
  if (n != length) {
    decimals = static_cast<int>(length) - n - 1;
    if (p[n] != '.' || decimals <= 0 || decimals >= 8) return false;
    uint64_t frac_digits;
    if (leading_digits(load8(p + n + 1), frac_digits) < decimals) return false;
    mantissa = mantissa * kPow10[decimals] + digits_value(frac_digits, decimals);
  }
  return decimal_to_float(mantissa, decimals, negative, out);
}

}  // namespace streamml::data::internal
