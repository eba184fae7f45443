// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The model-layer spec parsers on arbitrary text: model::parse_model_spec
// ("mlp:64,32;activation=gelu;dropout=0.1") and model::parse_task
// ("multiclass:K"). Each either throws ConfigError or returns a value whose
// canonical string parses back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "streamml/common/error.h"
#include "streamml/model/model_spec.h"
#include "streamml/model/task.h"

namespace {

template <typename Parse>
void check_round_trip(std::string_view text, Parse parse) {
  decltype(parse(text)) value;
  try {
    value = parse(text);
  } catch (const streamml::ConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
    return;
  }
  try {
    if (parse(value.to_string()) != value) std::abort();
  } catch (const streamml::ConfigError&) {
    std::abort();  // a canonical spec must always be valid
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_round_trip(text, [](std::string_view s) { return streamml::model::parse_model_spec(s); });
  check_round_trip(text, [](std::string_view s) { return streamml::model::parse_task(s); });
  return 0;
}
