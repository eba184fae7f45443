// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/decoder_spec.h"

#include "data/spec_reader.h"
#include "streamml/common/error.h"

namespace streamml::data {

namespace {

constexpr std::string_view kGrammar = "FORMAT[:KEY=VALUE|FLAG,...], e.g. csv:label=y,missing=zero";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

DecoderSpec DecoderSpec::parse(std::string_view text) {
  DecoderSpec spec;
  spec.text_ = std::string(text);
  const size_t colon = text.find(':');
  spec.format_ = std::string(text.substr(0, colon));
  if (spec.format_.empty()) {
    throw ConfigError(internal::spec_context(text) + "the format is missing (expected: " +
                      std::string(kGrammar) + ")");
  }
  for (char c : spec.format_) {
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9')) {
      throw ConfigError(internal::spec_context(text) + "invalid format \"" + spec.format_ +
                        "\" (expected one of csv, json, avro, raw; form " + std::string(kGrammar) +
                        ")");
    }
  }
  if (colon == std::string_view::npos) return spec;
  std::string_view rest = text.substr(colon + 1);
  if (rest.empty()) return spec;  // "csv:" is "csv"
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string_view::npos) comma = rest.size();
    std::string_view item = rest.substr(start, comma - start);
    if (item.empty()) {
      throw ConfigError(internal::spec_context(text) + "empty option at position " +
                        std::to_string(colon + 1 + start) + " (expected: " +
                        std::string(kGrammar) + ")");
    }
    SpecOption option;
    const size_t eq = item.find('=');
    option.key = std::string(item.substr(0, eq));
    if (option.key.empty()) {
      throw ConfigError(internal::spec_context(text) + "option \"" + std::string(item) +
                        "\" has no name (expected: KEY=VALUE or FLAG)");
    }
    if (eq != std::string_view::npos) {
      option.value = std::string(item.substr(eq + 1));
      option.has_value = true;
    }
    if (spec.find(option.key) != nullptr) {
      throw ConfigError(internal::spec_context(text) + "option '" + option.key +
                        "' is given twice");
    }
    spec.options_.push_back(std::move(option));
    start = comma + 1;
  }
  return spec;
}

const SpecOption* DecoderSpec::find(std::string_view key) const {
  for (const SpecOption& option : options_) {
    if (option.key == key) return &option;
  }
  return nullptr;
}

std::string spec_escape(std::string_view item) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(item.size());
  for (char ch : item) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == ',' || c == '+' || c == '=' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string spec_unescape(std::string_view item) {
  std::string out;
  out.reserve(item.size());
  for (size_t i = 0; i < item.size(); ++i) {
    if (item[i] != '%') {
      out.push_back(item[i]);
      continue;
    }
    const int hi = i + 1 < item.size() ? hex_value(item[i + 1]) : -1;
    const int lo = i + 2 < item.size() ? hex_value(item[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      throw ConfigError("decoder spec: malformed escape in \"" + std::string(item) +
                        "\" (expected %XX with two hex digits, e.g. %2C for ',')");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace streamml::data
