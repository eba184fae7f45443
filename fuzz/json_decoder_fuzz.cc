// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// JSON decoding of arbitrary documents: nested paths, array slices,
// numeric strings, every missing policy.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "streamml/data/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto strict =
      streamml::data::make_decoder("json:features=a+b.c+d[0..3]+e[1].f+[0],label=y");
  static const auto lenient =
      streamml::data::make_decoder("json:features=a+b.c+d[0..3]+e[1].f+[0],label=y,missing=nan");
  const std::string_view doc(reinterpret_cast<const char*>(data), size);
  for (const auto* decoder : {strict.get(), lenient.get()}) {
    std::vector<float> features(decoder->num_features());
    float label = 0;
    auto error = decoder->decode(doc, features.data(), &label);
    if (error && error->empty()) std::abort();
  }
  return 0;
}
