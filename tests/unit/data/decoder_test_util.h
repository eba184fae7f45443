// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the decoder unit tests.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"

namespace streamml::data::test_util {

// One decoded row; features/labels start at -999 so untouched slots show.
struct Row {
  std::vector<float> features;
  std::vector<float> labels;
  std::optional<std::string> error;
};

inline Row decode(const Decoder& d, std::string_view payload) {
  Row row;
  row.features.assign(d.num_features(), -999.0f);
  row.labels.assign(d.num_labels(), -999.0f);
  row.error = d.decode(payload, row.features.data(), row.labels.empty() ? nullptr : row.labels.data());
  return row;
}

// The ConfigError text make_decoder() throws for `spec`, or "(no error)".
inline std::string config_error_of(std::string_view spec, std::span<const std::string> header = {}) {
  try {
    make_decoder(spec, header);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace streamml::data::test_util
