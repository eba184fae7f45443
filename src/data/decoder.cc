// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/decoder.h"

#include "data/decoder_factories.h"
#include "data/spec_reader.h"
#include "streamml/common/error.h"
#include "streamml/data/decoder_spec.h"

namespace streamml::data {

MissingPolicy parse_missing_policy(std::string_view name) {
  if (name == "error") return MissingPolicy::kError;
  if (name == "zero") return MissingPolicy::kZero;
  if (name == "nan") return MissingPolicy::kNan;
  throw ConfigError("invalid missing-value policy " + internal::quote_value(name) +
                    " (expected error, zero or nan)");
}

std::string_view to_string(MissingPolicy policy) {
  switch (policy) {
    case MissingPolicy::kError:
      return "error";
    case MissingPolicy::kZero:
      return "zero";
    case MissingPolicy::kNan:
      return "nan";
  }
  return "error";
}

std::string features_only_spec(std::string_view text) {
  const DecoderSpec spec = DecoderSpec::parse(text);
  if (!spec.has("label") || spec.has("features_only")) return std::string(text);
  return std::string(text) + ",features_only";  // a label option means the text ends in an option
}

std::unique_ptr<Decoder> make_decoder(std::string_view spec) { return make_decoder(spec, {}); }

std::unique_ptr<Decoder> make_decoder(std::string_view text, std::span<const std::string> header) {
  const DecoderSpec spec = DecoderSpec::parse(text);
  const std::string& format = spec.format();
  if (format == "csv") return internal::make_csv_decoder(spec, header);
  if (format == "json") return internal::make_json_decoder(spec);
  if (format == "avro") return internal::make_avro_decoder(spec);
  if (format == "raw") return internal::make_raw_decoder(spec);
  throw ConfigError(internal::spec_context(text) + "unknown format \"" + format +
                    "\" (expected csv, json, avro or raw, e.g. csv:label=y)");
}

}  // namespace streamml::data
