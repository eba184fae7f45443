// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The one grammar of decoder spec strings, shared by every decoder:
//
//   spec   := format [ ':' option { ',' option } ]
//   option := key [ '=' value ]          (a key without value is a flag)
//   value  := item { '+' item }          (lists: features=a+b+c)
//
// Items are percent-decoded (%2C is ',', %2B '+', %3D '=', %25 '%'), so any
// name can be written; spec_escape() produces that form. Selectors inside
// items: `3` (0-based index), `0..29` (inclusive index range), `name`,
// `a.b.c` / `arr[2]` / `arr[0..3]` (JSON and Avro paths).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace streamml::data {

struct SpecOption {
  std::string key;
  std::string value;  // raw (still percent-encoded); empty for flags
  bool has_value = false;
};

// A parsed spec. Thread-safety: an immutable value.
class DecoderSpec {
 public:
  // Throws ConfigError when `text` is not `format[:options]` or an option is
  // empty or repeated.
  static DecoderSpec parse(std::string_view text);

  const std::string& text() const { return text_; }
  const std::string& format() const { return format_; }
  const std::vector<SpecOption>& options() const { return options_; }

  // The option named `key`, or null.
  const SpecOption* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

 private:
  std::string text_;
  std::string format_;
  std::vector<SpecOption> options_;
};

// Percent-encodes the characters that carry meaning in a spec (',', '+',
// '=', '%', whitespace, control and non-ASCII bytes).
std::string spec_escape(std::string_view item);
// Reverses spec_escape(); throws ConfigError on a malformed %XX escape.
std::string spec_unescape(std::string_view item);

}  // namespace streamml::data
