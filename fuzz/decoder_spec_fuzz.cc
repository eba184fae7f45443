// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// make_decoder() on arbitrary spec strings: either a ConfigError or a decoder
// whose canonical spec rebuilds an identical decoder (same spec, widths and
// names).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  // Schema files would read whatever path the input names; inline schemas
  // (schema64=) exercise the same parser.
  if (spec.find("schema=") != std::string_view::npos) return 0;
  std::unique_ptr<streamml::data::Decoder> decoder;
  try {
    decoder = streamml::data::make_decoder(spec);
  } catch (const streamml::ConfigError&) {
    return 0;
  }
  const std::string canonical = decoder->spec();
  std::unique_ptr<streamml::data::Decoder> again;
  try {
    again = streamml::data::make_decoder(canonical);
  } catch (const streamml::ConfigError&) {
    std::abort();  // a canonical spec must always be valid
  }
  if (again->spec() != canonical || again->num_features() != decoder->num_features() ||
      again->num_labels() != decoder->num_labels() ||
      again->feature_names() != decoder->feature_names() ||
      again->label_names() != decoder->label_names()) {
    std::abort();
  }
  return 0;
}
