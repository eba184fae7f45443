// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Avro datums (plain and Confluent-framed) against a schema with every
// supported field type: decode() and decode_fields().
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "streamml/data/avro_decoder.h"

namespace {

constexpr const char* kSchema = R"({"type":"record","name":"sample","fields":[
  {"name":"i","type":"int"},
  {"name":"l","type":"long"},
  {"name":"f","type":"float"},
  {"name":"d","type":"double"},
  {"name":"b","type":"boolean"},
  {"name":"n","type":["null","double"],"default":null},
  {"name":"m","type":["long","null"],"default":5},
  {"name":"s","type":"string"},
  {"name":"raw","type":"bytes"},
  {"name":"v","type":{"type":"array","items":"float"}},
  {"name":"w","type":["null",{"type":"array","items":"long"}]},
  {"name":"y","type":"int"}]})";

std::unique_ptr<streamml::data::AvroDecoder> make(bool confluent) {
  streamml::data::AvroOptions options;
  options.schema_json = kSchema;
  options.confluent = confluent;
  options.features = {"i", "l", "f", "d", "b", "n", "m", "v[0..3]", "w[1..2]"};
  options.labels = {"y"};
  options.missing = streamml::data::MissingPolicy::kNan;
  return std::make_unique<streamml::data::AvroDecoder>(options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto plain = make(false);
  static const auto confluent = make(true);
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  std::vector<streamml::data::FieldValue> fields;
  for (const auto* decoder : {plain.get(), confluent.get()}) {
    std::vector<float> features(decoder->num_features());
    float label = 0;
    auto error = decoder->decode(payload, features.data(), &label);
    auto fields_error = decoder->decode_fields(payload, fields);
    // Both walk the same datum: they agree on whether it is valid.
    if (error.has_value() != fields_error.has_value()) std::abort();
    if (!fields_error && fields.size() != decoder->field_names().size()) std::abort();
  }
  return 0;
}
