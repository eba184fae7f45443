// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Decoder: turns one record payload (CSV line, JSON document, Avro datum,
// raw bytes) into a row of float features and labels. Decoders are immutable
// after construction, so decode() is safe to call from several threads.
//
// Spec strings (the same on the command line, in model files and in code):
//   csv:label=COL[,...]      see decoders' documentation in docs/decoders.md
//   json:...
//   avro:...
//   raw:...
// make_decoder() throws ConfigError naming the option when a spec is invalid.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamml::data {

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

std::unique_ptr<Decoder> make_decoder(std::string_view spec);

}  // namespace streamml::data
