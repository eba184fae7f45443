// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The decoder spec grammar as the decoders read it (internal): options read
// out of a parsed DecoderSpec with uniform error messages, index and range
// selector lists ("0..3+7") and their canonical formatting, quoting of
// values in error messages. Number parsing is in data/float_parser.h,
// base64url in data/base64url.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/data/decoder.h"
#include "streamml/data/decoder_spec.h"

namespace streamml::data::internal {

// Reads a spec's options once each; finish() rejects unknown ones. Every
// error is a ConfigError: `decoder spec "TEXT": option 'KEY': WHY (expected:
// FORM)`.
class SpecReader {
 public:
  SpecReader(const DecoderSpec& spec, std::vector<std::string_view> known, std::string_view form);

  // A flag (`header`): true when present. A value is an error.
  bool flag(std::string_view key);
  // A single value, percent-decoded.
  std::optional<std::string> scalar(std::string_view key);
  // A '+'-separated list, each item percent-decoded; never empty.
  std::optional<std::vector<std::string>> list(std::string_view key);
  // An unsigned integer in [min, max].
  std::optional<size_t> size(std::string_view key, size_t min, size_t max);
  MissingPolicy missing();
  // Throws for any option not read.
  void finish();

  [[noreturn]] void fail(std::string_view key, std::string_view why) const;

 private:
  const SpecOption* take(std::string_view key);

  const DecoderSpec& spec_;
  std::vector<std::string_view> known_;
  std::string form_;
  std::vector<bool> used_;
};

// The ConfigError message prefix for a spec: `decoder spec "TEXT": `.
std::string spec_context(std::string_view text);

// Parses "N" as an index; nullopt when not all digits.
std::optional<size_t> parse_index(std::string_view text);
// Parses "A..B" (inclusive, A <= B); nullopt when not of that form. Sets
// *bad when it has that form but B < A.
std::optional<std::pair<size_t, size_t>> parse_range(std::string_view text, bool* bad);

// "0..3+7+9..10" for {0,1,2,3,7,9,10}.
std::string format_index_list(const std::vector<size_t>& indices);
// Items escaped and joined with '+'.
std::string join_items(const std::vector<std::string>& items);

// `"text"` with non-printable bytes as \xNN, cut after 40 bytes, for error
// messages.
std::string quote_value(std::string_view text);

// The value a missing field takes under kZero/kNan.
float missing_value(MissingPolicy policy);

}  // namespace streamml::data::internal
