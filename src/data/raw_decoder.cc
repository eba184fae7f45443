// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/raw_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "data/decoder_factories.h"
#include "data/float_parser.h"
#include "data/spec_reader.h"
#include "streamml/common/error.h"

namespace streamml::data {

namespace {

constexpr std::string_view kRawForm =
    "raw:bytes=N|float32=N[,scale=S][,features=IDX+..][,label=IDX+..][,features_only][,missing=error|zero|nan]"
    " where IDX is an element index or a range 0..15";

// Elements per record a spec may declare.
constexpr size_t kMaxElements = size_t{1} << 22;

[[noreturn]] void config_error(std::string_view option, const std::string& why) {
  throw ConfigError("raw decoder: option '" + std::string(option) + "': " + why +
                    " (expected: " + std::string(kRawForm) + ")");
}

float load_float32_le(const char* p) {
  uint32_t bits = static_cast<uint32_t>(static_cast<unsigned char>(p[0])) |
                  static_cast<uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
                  static_cast<uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
                  static_cast<uint32_t>(static_cast<unsigned char>(p[3])) << 24;
  return std::bit_cast<float>(bits);
}

}  // namespace

RawDecoder::RawDecoder(RawOptions options) : options_(std::move(options)) {
  const char* type = options_.type == RawType::kBytes ? "bytes" : "float32";
  if (options_.count == 0 || options_.count > kMaxElements) {
    config_error(type, fmt::format("the element count must be in [1, {}]", kMaxElements));
  }
  if (!std::isfinite(options_.scale) || options_.scale == 0.0f) {
    config_error("scale", "must be a finite, non-zero number");
  }
  std::vector<bool> used(options_.count, false);
  auto check = [&](size_t index, std::string_view option) {
    if (index >= options_.count) {
      config_error(option, fmt::format("element {} is out of range: records have {} elements",
                                       index, options_.count));
    }
    if (used[index]) config_error(option, fmt::format("element {} is selected twice", index));
    used[index] = true;
  };
  for (size_t i : options_.labels) check(i, "label");
  if (options_.features.empty()) {
    for (size_t i = 0; i < options_.count; ++i) {
      if (!used[i]) features_.push_back(i);
    }
  } else {
    for (size_t i : options_.features) check(i, "features");
    features_ = options_.features;
  }
  if (features_.empty()) config_error("features", "no feature element is left");
  for (size_t f : features_) {
    size_t before = 0;
    for (size_t l : options_.labels) before += l < f ? 1 : 0;
    unlabelled_features_.push_back(f - before);
  }
}

std::vector<std::string> RawDecoder::feature_names() const {
  std::vector<std::string> names;
  for (size_t i : features_) names.push_back(fmt::format("v{}", i));
  return names;
}

std::vector<std::string> RawDecoder::label_names() const {
  std::vector<std::string> names;
  if (options_.features_only) return names;
  for (size_t i : options_.labels) names.push_back(fmt::format("v{}", i));
  return names;
}

std::optional<std::string> RawDecoder::decode(std::string_view payload, float* features,
                                              float* labels) const {
  const bool bytes = options_.type == RawType::kBytes;
  size_t available;
  if (bytes) {
    available = payload.size();
  } else {
    if (payload.size() % 4 != 0) {
      return fmt::format("payload of {} bytes is not a whole number of float32 values",
                         payload.size());
    }
    available = payload.size() / 4;
    if (available > options_.count) {
      return fmt::format("payload has {} float32 values, expected {}", available, options_.count);
    }
  }
  // features_only: a payload shorter than `count` is one without labels.
  const bool unlabelled = options_.features_only && !options_.labels.empty() && available < options_.count;
  const std::vector<size_t>& selected = unlabelled ? unlabelled_features_ : features_;
  const size_t expected = unlabelled ? options_.count - options_.labels.size() : options_.count;
  if (available < expected && options_.missing == MissingPolicy::kError) {
    if (unlabelled) {
      return fmt::format("payload has {} {}, expected {} (with the labels) or {} (without)", available,
                         bytes ? "bytes" : "float32 values", options_.count, expected);
    }
    return fmt::format("payload has {} {}, expected {}", available,
                       bytes ? "bytes" : "float32 values", options_.count);
  }
  const float scale = options_.scale;
  const float missing = internal::missing_value(options_.missing);
  auto value = [&](size_t index) -> float {
    if (index >= available) return missing;
    const float v = bytes ? static_cast<float>(static_cast<unsigned char>(payload[index]))
                          : load_float32_le(payload.data() + 4 * index);
    return scale == 1.0f ? v : v / scale;
  };
  for (size_t i = 0; i < selected.size(); ++i) features[i] = value(selected[i]);
  if (options_.features_only) return std::nullopt;
  for (size_t i = 0; i < options_.labels.size(); ++i) labels[i] = value(options_.labels[i]);
  return std::nullopt;
}

std::string RawDecoder::spec() const {
  std::string out = fmt::format("raw:{}={},", options_.type == RawType::kBytes ? "bytes" : "float32",
                                options_.count);
  if (options_.scale != 1.0f) out += fmt::format("scale={},", options_.scale);
  out += "features=" + internal::format_index_list(features_) + ",";
  if (!options_.labels.empty()) {
    out += "label=" + internal::format_index_list(options_.labels) + ",";
  }
  if (options_.features_only) out += "features_only,";
  out += "missing=" + std::string(to_string(options_.missing));
  return out;
}

namespace internal {

std::unique_ptr<Decoder> make_raw_decoder(const DecoderSpec& spec) {
  SpecReader reader(spec, {"bytes", "float32", "scale", "features", "label", "features_only", "missing"},
                    kRawForm);
  RawOptions options;
  auto bytes = reader.size("bytes", 1, kMaxElements);
  auto floats = reader.size("float32", 1, kMaxElements);
  if (bytes && floats) reader.fail("float32", "give either bytes=N or float32=N, not both");
  if (!bytes && !floats) reader.fail("bytes", "the element type and count are required");
  options.type = bytes ? RawType::kBytes : RawType::kFloat32;
  options.count = bytes ? *bytes : *floats;
  if (auto scale = reader.scalar("scale")) {
    if (!parse_float(*scale, options.scale) || !std::isfinite(options.scale) ||
        options.scale == 0.0f) {
      reader.fail("scale", quote_value(*scale) + " is not a finite, non-zero number");
    }
  }
  auto indices = [&](std::string_view key) {
    std::vector<size_t> out;
    auto items = reader.list(key);
    if (!items) return out;
    for (const std::string& item : *items) {
      bool reversed = false;
      if (auto range = parse_range(item, &reversed)) {
        if (range->second >= options.count) {
          reader.fail(key, fmt::format("range {} goes past the {} elements", item, options.count));
        }
        for (size_t i = range->first; i <= range->second; ++i) out.push_back(i);
      } else if (auto index = parse_index(item)) {
        out.push_back(*index);
      } else {
        reader.fail(key, quote_value(item) + (reversed ? " ends before it starts"
                                                       : " is not an element index or range"));
      }
    }
    return out;
  };
  options.features = indices("features");
  options.labels = indices("label");
  options.features_only = reader.flag("features_only");
  options.missing = reader.missing();
  reader.finish();
  try {
    return std::make_unique<RawDecoder>(std::move(options));
  } catch (const ConfigError& e) {
    throw ConfigError(spec_context(spec.text()) + e.what());
  }
}

}  // namespace internal

}  // namespace streamml::data
