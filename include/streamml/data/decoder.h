// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Decoder: turns one record payload (CSV line, JSON document, Avro datum,
// raw bytes) into a row of float features and labels. Decoders are immutable
// after construction, so decode() is safe to call from several threads.
//
// Spec strings (the same on the command line, in model files and in code;
// grammar in decoder_spec.h, every option in docs/decoders.md):
//   csv:names=a+b+y,label=y,delim=;,missing=zero
//   json:features=a+b.c+d[0..3],label=y
//   avro:schema=path.avsc,confluent,label=f2
//   raw:bytes=16,scale=255
//   csv:columns=31,label=30,features_only   (inference: the label may be absent)
// make_decoder() throws ConfigError naming the option when a spec is invalid.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace streamml::data {

// What a decoder does with a selected field that is missing, empty, null or
// not a number (spec option `missing=error|zero|nan`).
enum class MissingPolicy {
  kError,  // the record is undecodable; the reason names the field
  kZero,   // the value becomes 0
  kNan,    // the value becomes NaN
};

// Parses "error|zero|nan"; throws ConfigError naming the value.
MissingPolicy parse_missing_policy(std::string_view name);
std::string_view to_string(MissingPolicy policy);

// Thread-safety: implementations are immutable after construction; every
// const method may be called from several threads at once.
class Decoder {
 public:
  virtual ~Decoder() = default;

  virtual size_t num_features() const = 0;
  // 0 when the spec names no label.
  virtual size_t num_labels() const = 0;
  virtual std::vector<std::string> feature_names() const = 0;
  virtual std::vector<std::string> label_names() const = 0;

  // Decodes one payload into features[num_features()] and labels[num_labels()]
  // (labels may be null when num_labels() == 0). Returns nullopt on success,
  // otherwise the reason the record cannot be decoded (without location: the
  // caller adds topic/partition/offset or file:line). Never throws for bad
  // data.
  virtual std::optional<std::string> decode(std::string_view payload, float* features,
                                            float* labels) const = 0;

  // Canonical, self-contained spec: make_decoder(spec()) builds an equivalent
  // decoder (an Avro schema is embedded, not referenced by path).
  virtual std::string spec() const = 0;
};

// The spec of the decoder inference uses for records described by `spec`:
// `spec` plus the `features_only` flag when it names a label (csv, json,
// avro, raw), so the records may come with or without their labels
// (docs/decoders.md). Otherwise `spec` unchanged. Throws ConfigError when
// `spec` does not parse.
std::string features_only_spec(std::string_view spec);

// Builds the decoder a spec describes. Throws ConfigError naming the bad
// option (and showing its expected form) when the spec is invalid.
std::unique_ptr<Decoder> make_decoder(std::string_view spec);

// Same, for CSV records whose column names come from a header line (files
// whose spec has the `header` flag): names in features=/label= resolve
// against `header`. Other formats ignore `header`.
std::unique_ptr<Decoder> make_decoder(std::string_view spec, std::span<const std::string> header);

}  // namespace streamml::data
