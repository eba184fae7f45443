// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// CSV decoding of arbitrary lines under every delimiter and missing policy.
// The first byte picks the decoder; the rest is the line.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "streamml/data/csv_decoder.h"
#include "streamml/data/decoder.h"

namespace {

const std::vector<std::unique_ptr<streamml::data::Decoder>>& decoders() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<streamml::data::Decoder>>();
    for (const char* spec : {"csv:columns=4,label=3", "csv:delim=tab,features=0..2+5,label=4,missing=zero",
                             "csv:delim=;,names=a+b+c,label=b,missing=nan",
                             "csv:delim=space,features=7+0,missing=error"}) {
      v->push_back(streamml::data::make_decoder(spec));
    }
    return v;
  }();
  return *all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& all = decoders();
  const auto& decoder = *all[data[0] % all.size()];
  const std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<float> features(decoder.num_features());
  std::vector<float> labels(decoder.num_labels() + 1);
  auto error = decoder.decode(line, features.data(), labels.data());
  if (error && error->empty()) std::abort();  // a reason must say something
  std::string split_error;
  auto fields = streamml::data::split_csv_line(line, ',', &split_error);
  if (!fields && split_error.empty()) std::abort();
  streamml::data::csv_line_is_open(line);
  return 0;
}
