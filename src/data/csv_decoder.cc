// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/csv_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "data/decoder_factories.h"
#include "data/float_parser.h"
#include "data/spec_reader.h"
#include "streamml/common/error.h"

namespace streamml::data {

namespace {

constexpr std::string_view kCsvForm =
    "csv:[delim=C,][header,][names=A+B+..,][columns=N,][features=SEL+..,][label=SEL+..,]"
    "[features_only,][missing=error|zero|nan] where SEL is an index, a range 0..29 or a column name";

// Columns per record a spec may address.
constexpr size_t kMaxColumns = size_t{1} << 20;

struct NamedDelimiter {
  std::string_view name;
  char c;
};
constexpr NamedDelimiter kDelimiters[] = {
    {"comma", ','}, {"tab", '\t'}, {"semicolon", ';'}, {"pipe", '|'}, {"space", ' '}};

std::string delimiter_spec(char c) {
  for (const auto& d : kDelimiters) {
    if (d.c == c) return std::string(d.name);
  }
  return spec_escape(std::string_view(&c, 1));
}

// Records of up to this many needed columns are split with the delimiter
// index below (wider ones field by field).
constexpr size_t kMaxIndexedFields = 256;

#if defined(__SSE2__)
// The 32 bytes of `line` from `base`: in place, or near the end a copy in
// `tail` padded with NUL, which is neither a delimiter nor a quote.
inline const char* block_at(std::string_view line, size_t base, char* tail) {
  if (line.size() - base >= 32) return line.data() + base;
  std::memset(tail, 0, 32);
  std::memcpy(tail, line.data() + base, line.size() - base);
  return tail;
}

// Appends to `ends` the positions (from `base`) of the n bits set in
// `found`, and says whether max_ends are there. Eight without a branch (a
// field is rarely shorter than 4 bytes), then the rest; the slots past n are
// scratch.
[[gnu::always_inline]] inline bool append_positions(uint32_t found, int n, size_t base, size_t max_ends,
                                                    uint32_t* ends, size_t& count) {
  uint32_t* out = ends + count;
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<uint32_t>(base) + static_cast<uint32_t>(std::countr_zero(found));
    found &= found - 1;
  }
  for (int i = 8; i < n; ++i) {
    out[i] = static_cast<uint32_t>(base) + static_cast<uint32_t>(std::countr_zero(found));
    found &= found - 1;
  }
  count += static_cast<size_t>(n);
  if (count < max_ends) return false;
  count = max_ends;
  return true;
}

// Writes the positions of the first delimiters of `line`, at most `max_ends`
// of them, to `ends` (room for max_ends + 32), 32 bytes per step; `count`
// gets how many. False when a quote comes up in the bytes looked at: quoted
// fields take the field-by-field path. Finding every field's end first takes
// the field boundaries off the parsing's dependency chain, so the fields
// parse in parallel in the CPU.
bool index_delimiters(std::string_view line, char delimiter, size_t max_ends, uint32_t* ends, size_t& count) {
  const __m128i delimiters = _mm_set1_epi8(delimiter);
  const __m128i quotes = _mm_set1_epi8('"');
  count = 0;
  alignas(16) char tail[32];
  for (size_t base = 0; base < line.size(); base += 32) {
    const char* block = block_at(line, base, tail);
    const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
    const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16));
    if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(low, quotes), _mm_cmpeq_epi8(high, quotes))) != 0) {
      return false;
    }
    const uint32_t found = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(low, delimiters))) |
                           static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(high, delimiters))) << 16;
    // Bits set, without std::popcount (a library call without -mpopcnt).
    uint32_t bits = found - ((found >> 1) & 0x55555555u);
    bits = (bits & 0x33333333u) + ((bits >> 2) & 0x33333333u);
    bits = (bits + (bits >> 4)) & 0x0f0f0f0fu;
    if (append_positions(found, static_cast<int>((bits * 0x01010101u) >> 24), base, max_ends, ends, count)) {
      return true;
    }
  }
  return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
// index_delimiters with AVX2: one compare per 32 bytes, and the CPU's own
// popcnt and tzcnt.
__attribute__((target("avx2,popcnt,bmi"))) bool index_delimiters_avx2(std::string_view line, char delimiter,
                                                                       size_t max_ends, uint32_t* ends,
                                                                       size_t& count) {
  const __m256i delimiters = _mm256_set1_epi8(delimiter);
  const __m256i quotes = _mm256_set1_epi8('"');
  count = 0;
  alignas(32) char tail[32];
  for (size_t base = 0; base < line.size(); base += 32) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block_at(line, base, tail)));
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, quotes)) != 0) return false;
    const uint32_t found = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, delimiters)));
    if (append_positions(found, _mm_popcnt_u32(found), base, max_ends, ends, count)) return true;
  }
  return true;
}
#endif

// The short fields of `line` (count delimiters at `ends`, `fields` fields)
// with internal::parse_short_decimals, four at a time: those with 9 bytes
// readable from their start in place, the last few from a zero-padded copy of
// the line's end. Returns how many leading fields have `values` and `parsed`
// filled (all of them unless the last few take more than the copy holds);
// all_parsed: every one of those was parsed.
size_t parse_short_vectored(std::string_view line, const uint32_t* ends, size_t count, size_t fields, float* values,
                            uint8_t* parsed, bool& all_parsed) {
  auto start_of = [&](size_t column) { return column == 0 ? size_t{0} : size_t{ends[column - 1]} + 1; };
  size_t in_place = std::min(fields, count);
  while (in_place > 0 && start_of(in_place - 1) + 9 > line.size()) --in_place;
  in_place &= ~size_t{3};
  all_parsed = internal::parse_short_decimals(line.data(), ends, in_place, values, parsed);
  if (in_place == fields) return fields;
  constexpr size_t kTail = 64;
  const size_t tail_begin = start_of(in_place);
  const size_t tail_size = line.size() - tail_begin;
  if (tail_size > kTail) return in_place;
  char tail[kTail + 32] = {};  // NUL is not a digit
  std::memcpy(tail, line.data() + tail_begin, tail_size);
  uint32_t tail_ends[kTail + 1];  // a field takes at least its delimiter, the last one none
  const size_t rest = fields - in_place;
  for (size_t i = 0; i < rest; ++i) {
    const size_t column = in_place + i;
    tail_ends[i] = static_cast<uint32_t>((column < count ? size_t{ends[column]} : line.size()) - tail_begin);
  }
  all_parsed = internal::parse_short_decimals(tail, tail_ends, rest, values + in_place, parsed + in_place) &&
               all_parsed;
  return fields;
}
#endif

// Column c's name, or "c<c>" without one.
std::string name_or_c(const std::vector<std::string>& names, size_t c) {
  // fmt, not "c" + std::to_string(c): GCC 12 warns (-Wrestrict, a false
  // positive) about that operator+ in optimized builds.
  return c < names.size() ? names[c] : fmt::format("c{}", c);
}

[[noreturn]] void config_error(std::string_view option, const std::string& why) {
  throw ConfigError("csv decoder: option '" + std::string(option) + "': " + why +
                    " (expected: " + std::string(kCsvForm) + ")");
}

}  // namespace

CsvDecoder::CsvDecoder(CsvOptions options) : options_(std::move(options)) {
  const char d = options_.delimiter;
  if (d == '"' || d == '\n' || d == '\r' || d == '\0') {
    config_error("delim", "the delimiter cannot be a quote, NUL or a line break");
  }
  size_t num_columns = options_.num_columns;
  if (num_columns > kMaxColumns || options_.names.size() > kMaxColumns) {
    config_error("columns", fmt::format("at most {} columns are supported", kMaxColumns));
  }
  if (!options_.names.empty()) {
    if (num_columns != 0 && num_columns != options_.names.size()) {
      config_error("columns", fmt::format("columns={} but {} column names are given", num_columns,
                                          options_.names.size()));
    }
    num_columns = options_.names.size();
    for (size_t i = 0; i < options_.names.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (options_.names[i] == options_.names[j] && !options_.names[i].empty()) {
          config_error("names", "column name \"" + options_.names[i] + "\" appears twice");
        }
      }
    }
  }
  options_.num_columns = num_columns;

  auto resolve = [&](const ColumnRef& ref, std::string_view option) -> size_t {
    if (!ref.name.empty()) {
      if (options_.names.empty()) {
        config_error(option, "column \"" + ref.name +
                                 "\" is named but column names are unknown; give names=, "
                                 "read a header (header flag) or use a 0-based index");
      }
      auto it = std::find(options_.names.begin(), options_.names.end(), ref.name);
      if (it == options_.names.end()) {
        std::string known;
        for (const auto& n : options_.names) known += (known.empty() ? "" : ", ") + n;
        config_error(option, "no column named \"" + ref.name + "\" (columns: " + known + ")");
      }
      return static_cast<size_t>(it - options_.names.begin());
    }
    if (ref.index >= kMaxColumns) {
      config_error(option, fmt::format("column index {} is beyond the limit of {} columns",
                                       ref.index, kMaxColumns));
    }
    if (num_columns != 0 && ref.index >= num_columns) {
      config_error(option, fmt::format("column index {} is out of range: records have {} columns",
                                       ref.index, num_columns));
    }
    return ref.index;
  };

  for (const ColumnRef& ref : options_.labels) {
    // features_only: a named label that the columns (a file's header) lack is
    // simply absent from these records.
    if (options_.features_only && !ref.name.empty() && !options_.names.empty() &&
        std::find(options_.names.begin(), options_.names.end(), ref.name) == options_.names.end()) {
      continue;
    }
    label_columns_.push_back(resolve(ref, "label"));
  }
  if (options_.features.empty()) {
    if (num_columns == 0) {
      config_error("features",
                   "cannot default to every column but the labels: the number of columns is "
                   "unknown; give features=, names=, columns= or the header flag");
    }
    for (size_t c = 0; c < num_columns; ++c) {
      if (std::find(label_columns_.begin(), label_columns_.end(), c) == label_columns_.end()) {
        feature_columns_.push_back(c);
      }
    }
  } else {
    for (const ColumnRef& ref : options_.features) {
      feature_columns_.push_back(resolve(ref, "features"));
    }
  }
  if (feature_columns_.empty()) config_error("features", "no feature column is left");

  size_t max_column = 0;
  for (size_t c : feature_columns_) max_column = std::max(max_column, c);
  for (size_t c : label_columns_) max_column = std::max(max_column, c);
  slot_of_column_.assign(max_column + 1, -1);
  auto assign = [&](size_t column, size_t slot, std::string_view option) {
    if (slot_of_column_[column] >= 0) {
      config_error(option, "column " + column_name(column) + " is selected twice");
    }
    slot_of_column_[column] = static_cast<int32_t>(slot);
  };
  for (size_t i = 0; i < feature_columns_.size(); ++i) assign(feature_columns_[i], i, "features");
  for (size_t i = 0; i < label_columns_.size(); ++i) {
    assign(label_columns_[i], feature_columns_.size() + i, "label");
  }
  if (options_.features_only) {
    // Labels get no slot. A record without its label columns has every
    // column after a label moved left by one per label before it.
    size_t max_feature = 0;
    for (size_t c : feature_columns_) max_feature = std::max(max_feature, c);
    slot_of_column_.resize(max_feature + 1);
    for (int32_t& slot : slot_of_column_) {
      if (slot >= static_cast<int32_t>(feature_columns_.size())) slot = -1;
    }
    exact_widths_ = num_columns != 0;
    labelled_width_ = exact_widths_ ? num_columns : max_column + 1;
    unlabelled_width_ = exact_widths_ ? num_columns - label_columns_.size() : 0;
    bool shifted = false;
    std::vector<size_t> unlabelled(feature_columns_.size());
    for (size_t i = 0; i < feature_columns_.size(); ++i) {
      const size_t c = feature_columns_[i];
      size_t before = 0;
      for (size_t l : label_columns_) before += l < c ? 1 : 0;
      unlabelled[i] = c - before;
      shifted |= before > 0;
      if (!exact_widths_) unlabelled_width_ = std::max(unlabelled_width_, unlabelled[i] + 1);
    }
    if (shifted) {
      unlabelled_slot_of_column_.assign(*std::max_element(unlabelled.begin(), unlabelled.end()) + 1, -1);
      for (size_t i = 0; i < unlabelled.size(); ++i) unlabelled_slot_of_column_[unlabelled[i]] = static_cast<int32_t>(i);
    }
  }
  auto feature_prefix = [&](const std::vector<int32_t>& slots) {
    size_t n = 0;
    while (n < slots.size() && n < feature_columns_.size() && slots[n] == static_cast<int32_t>(n)) ++n;
    return n;
  };
  feature_prefix_ = feature_prefix(slot_of_column_);
  unlabelled_feature_prefix_ = feature_prefix(unlabelled_slot_of_column_);
}

std::string CsvDecoder::column_name(size_t column) const {
  if (column < options_.names.size()) {
    return fmt::format("'{}' (index {})", options_.names[column], column);
  }
  return std::to_string(column);
}

std::vector<std::string> CsvDecoder::feature_names() const {
  std::vector<std::string> names;
  for (size_t c : feature_columns_) {
    names.push_back(name_or_c(options_.names, c));
  }
  return names;
}

std::vector<std::string> CsvDecoder::label_names() const {
  std::vector<std::string> names;
  if (options_.features_only) return names;
  for (size_t c : label_columns_) {
    names.push_back(name_or_c(options_.names, c));
  }
  return names;
}

std::optional<std::string> CsvDecoder::decode(std::string_view line, float* features,
                                              float* labels) const {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (unlabelled_slot_of_column_.empty()) return decode_columns(line, slot_of_column_, features, labels);
  // features_only with labels before some feature: the field count tells
  // whether the record has its label columns.
  size_t fields = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == options_.delimiter && !quoted) {
      ++fields;
    }
  }
  return decode_columns(line, fields >= labelled_width_ ? slot_of_column_ : unlabelled_slot_of_column_, features,
                        labels);
}

std::string CsvDecoder::widths_error(size_t fields) const {
  return fmt::format("the record has {} field{}; expected {}{} (with the label column{}) or {} (without)", fields,
                     fields == 1 ? "" : "s", exact_widths_ ? "" : "at least ", labelled_width_,
                     label_columns_.size() == 1 ? "" : "s", unlabelled_width_);
}

std::optional<std::string> CsvDecoder::decode_columns(std::string_view line, const std::vector<int32_t>& slots,
                                                      float* features, float* labels) const {
  const int32_t num_features = static_cast<int32_t>(feature_columns_.size());
  const size_t needed = slots.size();
  const char delimiter = options_.delimiter;
  // The fast path below must not read a delimiter as part of a number.
  const bool plain_numbers = delimiter != '.' && delimiter != '-' && (delimiter < '0' || delimiter > '9');
  const MissingPolicy policy = options_.missing;
#if defined(__SSE2__)
  if (plain_numbers && needed <= kMaxIndexedFields && line.size() < UINT32_MAX) {
    uint32_t ends[kMaxIndexedFields + 32];
    size_t count = 0;
    const bool has_avx2 = internal::short_decimals_available();
#if defined(__x86_64__) && defined(__GNUC__)
    const bool indexed = has_avx2 ? index_delimiters_avx2(line, delimiter, needed, ends, count)
                              : index_delimiters(line, delimiter, needed, ends, count);
#else
    const bool indexed = index_delimiters(line, delimiter, needed, ends, count);
#endif
    if (indexed) {
      // count delimiters: count + 1 fields, of which the first `needed` count.
      const size_t fields = std::min(count + 1, needed);
      const char* const data = line.data();
      auto end_of = [&](size_t column) { return column < count ? size_t{ends[column]} : line.size(); };
      auto store = [&](int32_t slot, float value) {
        if (slot < num_features) {
          features[slot] = value;
        } else {
          labels[slot - num_features] = value;
        }
      };
      // One field, on its own: the fast paths, then the general parser.
      auto parse_field = [&](size_t column, size_t begin, size_t end, float& value) -> std::optional<std::string> {
        const char* first = data + begin;
        const char* last = data + end;
        // 17 bytes readable from the field's start: the word-at-a-time
        // parser; otherwise the digit-by-digit one.
        const bool parsed = line.size() - begin >= 17 ? internal::parse_plain_decimal_field(first, last, value)
                                                      : internal::parse_plain_decimal(first, last, value) == last;
        if (parsed) return std::nullopt;
        const std::string_view text(first, end - begin);
        if (internal::parse_float(text, value)) return std::nullopt;
        if (policy == MissingPolicy::kError) {
          if (internal::is_blank(text)) return "column " + column_name(column) + " is empty";
          return "column " + column_name(column) + ": not a number: " + internal::quote_value(text);
        }
        value = internal::missing_value(policy);
        return std::nullopt;
      };
      // The short fields, four at a time (see parse_short_vectored); a
      // field the vector path does not take goes alone, in its order.
      float values[kMaxIndexedFields + 4];
      uint8_t parsed[kMaxIndexedFields + 4];
      size_t vectored = 0;
      bool all_parsed = false;
      if (has_avx2) {
        vectored = parse_short_vectored(line, ends, count, fields, values, parsed, all_parsed);
      }
      size_t column = 0;
      if (all_parsed) {
        // The leading columns that are features 0, 1, ... in order: one copy.
        const size_t prefix =
            std::min(vectored, &slots == &slot_of_column_ ? feature_prefix_ : unlabelled_feature_prefix_);
        std::memcpy(features, values, prefix * sizeof(float));
        column = prefix;
      }
      size_t begin = column == 0 ? 0 : size_t{ends[column - 1]} + 1;
      for (; column < fields; ++column) {
        const size_t end = end_of(column);
        const int32_t slot = slots[column];
        if (slot >= 0) {
          float value;
          if (column < vectored && parsed[column]) {
            value = values[column];
          } else if (auto error = parse_field(column, begin, end, value)) {
            return error;
          }
          store(slot, value);
        }
        begin = end + 1;
      }
      return fill_missing(fields, slots, features, labels);
    }
  }
#endif
  const char* p = line.data();
  const char* const end = p + line.size();
  size_t column = 0;
  bool more = true;
  while (more && column < needed) {
    const char* field_begin;
    const char* field_end;
    bool escaped = false;
    const int32_t slot = slots[column];
    float value;
    bool parsed = false;  // `value` already holds the field (fast path)
    if (p < end && *p == '"') {
      const char* q = p + 1;
      while (true) {
        q = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end - q)));
        if (q == nullptr) return "column " + column_name(column) + ": unterminated quoted field";
        if (q + 1 < end && q[1] == '"') {
          escaped = true;
          q += 2;
          continue;
        }
        break;
      }
      field_begin = p + 1;
      field_end = q;
      p = q + 1;
      if (p < end && *p != delimiter) {
        return "column " + column_name(column) + ": unexpected " +
               internal::quote_value(std::string_view(p, 1)) + " after a closing quote";
      }
    } else {
      // Most fields are plain decimals followed by the delimiter: parse them
      // in the same pass that finds the delimiter.
      const char* number_end =
          slot >= 0 && plain_numbers ? internal::parse_plain_decimal(p, end, value) : nullptr;
      if (number_end != nullptr && (number_end == end || *number_end == delimiter)) {
        parsed = true;
        field_end = number_end;
      } else {
        const char* d =
            static_cast<const char*>(std::memchr(p, delimiter, static_cast<size_t>(end - p)));
        field_end = d != nullptr ? d : end;
      }
      field_begin = p;
      p = field_end;
    }
    if (slot >= 0) {
      const std::string_view text(field_begin, static_cast<size_t>(field_end - field_begin));
      if (!parsed && (escaped || !internal::parse_float(text, value))) {
        if (policy == MissingPolicy::kError) {
          if (internal::is_blank(text)) return "column " + column_name(column) + " is empty";
          return "column " + column_name(column) + ": not a number: " + internal::quote_value(text);
        }
        value = internal::missing_value(policy);
      }
      if (slot < num_features) {
        features[slot] = value;
      } else {
        labels[slot - num_features] = value;
      }
    }
    ++column;
    if (p < end) {
      ++p;  // the delimiter
    } else {
      more = false;
    }
  }
  return fill_missing(column, slots, features, labels);
}

std::optional<std::string> CsvDecoder::fill_missing(size_t fields, const std::vector<int32_t>& slots,
                                                    float* features, float* labels) const {
  const MissingPolicy policy = options_.missing;
  const int32_t num_features = static_cast<int32_t>(feature_columns_.size());
  for (size_t column = fields; column < slots.size(); ++column) {
    const int32_t slot = slots[column];
    if (slot < 0) continue;
    if (policy == MissingPolicy::kError) {
      if (options_.features_only && !label_columns_.empty()) return widths_error(fields);
      return fmt::format("column {} is missing: the record has {} fields", column_name(column), fields);
    }
    if (slot < num_features) {
      features[slot] = internal::missing_value(policy);
    } else {
      labels[slot - num_features] = internal::missing_value(policy);
    }
  }
  return std::nullopt;
}

std::string CsvDecoder::spec() const {
  std::string out = "csv:";
  if (options_.delimiter != ',') out += "delim=" + delimiter_spec(options_.delimiter) + ",";
  if (options_.header) out += "header,";
  if (!options_.names.empty()) {
    out += "names=" + internal::join_items(options_.names) + ",";
  } else if (options_.num_columns != 0) {
    out += fmt::format("columns={},", options_.num_columns);
  }
  out += "features=" + internal::format_index_list(feature_columns_) + ",";
  if (!label_columns_.empty()) out += "label=" + internal::format_index_list(label_columns_) + ",";
  if (options_.features_only) out += "features_only,";
  out += "missing=" + std::string(to_string(options_.missing));
  return out;
}

std::optional<std::vector<std::string>> split_csv_line(std::string_view line, char delimiter,
                                                       std::string* error) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) {
          if (error != nullptr) *error = fmt::format("field {}: unterminated quoted field", fields.size());
          return std::nullopt;
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != delimiter) {
        if (error != nullptr) *error = fmt::format("field {}: unexpected character after a closing quote", fields.size());
        return std::nullopt;
      }
    } else {
      const size_t d = line.find(delimiter, i);
      const size_t stop = d == std::string_view::npos ? line.size() : d;
      field.assign(line.substr(i, stop - i));
      i = stop;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // delimiter
  }
  return fields;
}

bool csv_line_is_open(std::string_view line) {
  bool in_quotes = false;
  for (char c : line) {
    if (c == '"') in_quotes = !in_quotes;
  }
  return in_quotes;
}

namespace internal {

char csv_delimiter(const DecoderSpec& spec) {
  const SpecOption* option = spec.find("delim");
  if (option == nullptr || !option->has_value) return ',';
  const std::string delim = spec_unescape(option->value);
  for (const auto& d : kDelimiters) {
    if (delim == d.name) return d.c;
  }
  if (delim.size() != 1) {
    throw ConfigError(spec_context(spec.text()) + "option 'delim': " + quote_value(delim) +
                      " is not one character nor comma, tab, semicolon, pipe or space");
  }
  return delim[0];
}

std::unique_ptr<Decoder> make_csv_decoder(const DecoderSpec& spec,
                                          std::span<const std::string> header) {
  SpecReader reader(spec, {"delim", "header", "names", "columns", "features", "label", "features_only", "missing"},
                    kCsvForm);
  CsvOptions options;
  if (reader.scalar("delim")) options.delimiter = csv_delimiter(spec);
  options.header = reader.flag("header");
  if (auto names = reader.list("names")) options.names = std::move(*names);
  if (!header.empty()) {
    std::vector<std::string> file_names(header.begin(), header.end());
    if (!options.names.empty() && options.names != file_names) {
      reader.fail("names", "the header (" + join_items(file_names) +
                               ") differs from the column names (" + join_items(options.names) +
                               ")");
    }
    options.names = std::move(file_names);
  }
  if (auto columns = reader.size("columns", 1, kMaxColumns)) options.num_columns = *columns;
  auto selectors = [&](std::string_view key) {
    std::vector<ColumnRef> refs;
    auto items = reader.list(key);
    if (!items) return refs;
    for (const std::string& item : *items) {
      bool bad = false;
      if (auto range = parse_range(item, &bad)) {
        if (range->second - range->first > (size_t{1} << 20)) reader.fail(key, "range too large");
        for (size_t i = range->first; i <= range->second; ++i) refs.push_back(ColumnRef::at(i));
      } else if (bad) {
        reader.fail(key, "range " + quote_value(item) + " ends before it starts");
      } else if (auto index = parse_index(item)) {
        refs.push_back(ColumnRef::at(*index));
      } else {
        refs.push_back(ColumnRef::named(item));
      }
    }
    return refs;
  };
  options.features = selectors("features");
  options.labels = selectors("label");
  options.features_only = reader.flag("features_only");
  options.missing = reader.missing();
  reader.finish();
  if (options.header && options.names.empty()) {
    // Names come from the file header; without it only indices can resolve.
    for (const auto* refs : {&options.features, &options.labels}) {
      for (const ColumnRef& ref : *refs) {
        if (!ref.name.empty()) {
          reader.fail(refs == &options.features ? "features" : "label",
                      "column \"" + ref.name +
                          "\" is named but the header has not been read (records outside "
                          "files need names=)");
        }
      }
    }
  }
  try {
    return std::make_unique<CsvDecoder>(std::move(options));
  } catch (const ConfigError& e) {
    throw ConfigError(spec_context(spec.text()) + e.what());
  }
}

}  // namespace internal

}  // namespace streamml::data
