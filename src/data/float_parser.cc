// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/float_parser.h"

#include <charconv>
#include <cstdint>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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
  if (digits + decimals > 15 || decimals > 10 || !decimal_to_float(mantissa, decimals, negative, out)) return nullptr;
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
        if (*q == 'e' || *q == 'E' || *q == '.' || !decimal_to_float(mantissa, decimals, negative, out)) {
          return nullptr;
        }
        return q;
      }
    }
  }
  return parse_plain_decimal_scalar(p, last, negative, out);
}

#if defined(__x86_64__) && defined(__GNUC__)

bool short_decimals_available() {
  static const bool available = __builtin_cpu_supports("avx2");
  return available;
}

namespace {

// The 64-bit lanes of a register, all `v`.
__attribute__((target("avx2"))) inline __m256i all(uint64_t v) { return _mm256_set1_epi64x(static_cast<int64_t>(v)); }

}  // namespace

// parse_plain_decimal_field's short path (one word per field) on four
// fields at a time, in the four 64-bit lanes of an AVX2 register.
__attribute__((target("avx2"))) bool parse_short_decimals(const char* data, const uint32_t* ends, size_t n,
                                                          float* values, uint8_t* parsed) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i ones = all(~uint64_t{0});
  const __m256i low_halves = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const __m256 pow10 = _mm256_setr_ps(1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f);
  uint32_t begin = 0;
  unsigned all_parsed = 0xf;
  for (size_t f = 0; f < n; f += 4) {
    // The sign and the word after it, per field; past the n-th field, empty
    // fields that no lane takes.
    int64_t word[4];
    int64_t size[4];
    int32_t sign[4];
    for (size_t i = 0; i < 4; ++i) {
      const char* p = data + begin;
      const bool negative = *p == '-';
      const uint32_t end = f + i < n ? ends[f + i] : begin;
      word[i] = static_cast<int64_t>(load8(p + negative));
      size[i] = static_cast<int64_t>(end) - static_cast<int64_t>(begin) - negative;
      sign[i] = static_cast<int32_t>(uint32_t{negative} << 31);
      begin = end + 1;
    }
    const __m256i length = _mm256_set_epi64x(size[3], size[2], size[1], size[0]);
    const __m256i digits =
        _mm256_xor_si256(_mm256_set_epi64x(word[3], word[2], word[1], word[0]), all(repeat_byte('0')));
    // 1..8 bytes; the bytes past the field do not count.
    const __m256i sized = _mm256_and_si256(_mm256_cmpgt_epi64(length, zero), _mm256_cmpgt_epi64(all(9), length));
    const __m256i in_field = _mm256_srlv_epi64(ones, _mm256_sub_epi64(all(64), _mm256_slli_epi64(length, 3)));
    const __m256i non_digit = _mm256_and_si256(
        _mm256_and_si256(_mm256_or_si256(_mm256_add_epi64(_mm256_and_si256(digits, all(repeat_byte(0x7f))),
                                                          all(repeat_byte(0x76))),
                                         digits),
                         all(repeat_byte(0x80))),
        in_field);
    // The first non-digit (the point, if any): its top bit alone; the bytes below it.
    const __m256i first = _mm256_and_si256(non_digit, _mm256_sub_epi64(zero, non_digit));
    const __m256i point_unit = _mm256_srli_epi64(first, 7);                                // 1 << 8 * point
    const __m256i below = _mm256_sub_epi64(point_unit, all(1));                            // all ones: no point
    const __m256i point_byte = _mm256_sub_epi64(_mm256_slli_epi64(first, 1), point_unit);  // 0xff << 8 * point
    const __m256i has_point = _mm256_xor_si256(_mm256_cmpeq_epi64(non_digit, zero), ones);
    // Bytes before the point (8 without one), and the decimals after it.
    const __m256i point = _mm256_sad_epu8(_mm256_and_si256(below, all(repeat_byte(1))), zero);
    const __m256i decimals = _mm256_and_si256(has_point, _mm256_sub_epi64(_mm256_sub_epi64(length, point), all(1)));
    // One non-digit at most; it is a point, with a digit before and after it.
    __m256i ok = _mm256_and_si256(sized, _mm256_cmpeq_epi64(non_digit, first));
    ok = _mm256_and_si256(ok, _mm256_cmpeq_epi64(_mm256_and_si256(digits, point_byte),
                                                 _mm256_and_si256(all(repeat_byte('.' ^ '0')), point_byte)));
    const __m256i empty_side = _mm256_or_si256(_mm256_cmpeq_epi64(point, zero), _mm256_cmpeq_epi64(decimals, zero));
    ok = _mm256_andnot_si256(_mm256_and_si256(has_point, empty_side), ok);
    // Close the point's gap: a word of length - has_point digits.
    const __m256i joined =
        _mm256_or_si256(_mm256_and_si256(digits, below), _mm256_andnot_si256(below, _mm256_srli_epi64(digits, 8)));
    const __m256i count = _mm256_add_epi64(length, has_point);  // has_point is -1 or 0
    // digits_value: the digits to the top bytes, then pairs, quads, eight.
    __m256i v = _mm256_sllv_epi64(joined, _mm256_slli_epi64(_mm256_sub_epi64(all(8), count), 3));
    v = _mm256_and_si256(_mm256_add_epi64(_mm256_add_epi64(_mm256_slli_epi64(v, 3), _mm256_slli_epi64(v, 1)),
                                          _mm256_srli_epi64(v, 8)),
                         all(0x00ff00ff00ff00ffull));
    v = _mm256_and_si256(
        _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(_mm256_slli_epi64(v, 6), _mm256_slli_epi64(v, 5)),
                                          _mm256_slli_epi64(v, 2)),
                         _mm256_srli_epi64(v, 16)),
        all(0x0000ffff0000ffffull));
    v = _mm256_add_epi64(_mm256_mul_epu32(v, all(10000)), _mm256_srli_epi64(v, 32));
    // The low halves of the lanes (mantissa < 10^8, decimals < 8) as 4 x 32 bits.
    const __m128i mantissa = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, low_halves));
    const __m256i places = _mm256_permutevar8x32_epi32(decimals, low_halves);
    const __m128 divisor = _mm256_castps256_ps128(_mm256_permutevar8x32_ps(pow10, places));
    // <= 7 digits with a point: exact, one division; an integer: one rounding.
    const __m128 value = _mm_div_ps(_mm_cvtepi32_ps(mantissa), divisor);
    _mm_storeu_ps(values + f,
                  _mm_xor_ps(value, _mm_castsi128_ps(_mm_set_epi32(sign[3], sign[2], sign[1], sign[0]))));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(ok)));
    for (size_t i = 0; i < 4; ++i) parsed[f + i] = static_cast<uint8_t>(mask >> i & 1u);
    all_parsed &= n - f >= 4 ? mask : mask | (0xfu << (n - f));
  }
  return all_parsed == 0xf;
}

#else

bool short_decimals_available() { return false; }
bool parse_short_decimals(const char*, const uint32_t*, size_t, float*, uint8_t*) { return false; }

#endif

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
