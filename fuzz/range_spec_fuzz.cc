// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// kafka::parse_range_spec() on arbitrary text: either a ConfigError or a spec
// whose to_string() parses back to the same spec.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "streamml/common/error.h"
#include "streamml/kafka/range_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  streamml::kafka::RangeSpec spec;
  try {
    spec = streamml::kafka::parse_range_spec(text);
  } catch (const streamml::ConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();  // a reason must say something
    return 0;
  }
  if (spec.topic.empty()) std::abort();
  const std::string canonical = spec.to_string();
  try {
    if (streamml::kafka::parse_range_spec(canonical) != spec) std::abort();
  } catch (const streamml::ConfigError&) {
    std::abort();  // a canonical spec must always be valid
  }
  return 0;
}
