// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RawDecoder: binary payloads (NUL bytes included) as numbers.
// Spec: raw:bytes=N      the first N bytes, each 0..255 (longer payloads:
//                        the rest is ignored; shorter: missing policy)
//       raw:float32=N    exactly N little-endian IEEE-754 float32 values
//       [,scale=S]       every value is divided by S (bytes=N,scale=255 -> 0..1)
//       [,features=SEL+..][,label=SEL+..]  element indices/ranges (default:
//                        every element except the labels)
//       [,missing=error|zero|nan]
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/data/decoder.h"

namespace streamml::data {

enum class RawType {
  kBytes,    // one value per byte
  kFloat32,  // one value per 4 bytes, little-endian
};

struct RawOptions {
  RawType type = RawType::kBytes;     // element type
  size_t count = 0;                   // elements per record (>= 1)
  float scale = 1.0f;                 // divisor applied to every element (non-zero, finite)
  std::vector<size_t> features;       // element indices; empty = all but the labels
  std::vector<size_t> labels;         // element indices; empty = unlabeled
  MissingPolicy missing = MissingPolicy::kError;  // elements past the end of a short payload
  // Decode the features only (num_labels() is 0), from payloads with or
  // without the label elements: a shorter payload of `count` minus the
  // labels is the same elements with the labels removed.
  bool features_only = false;
};

// Thread-safety: immutable; decode() may run on several threads at once.
class RawDecoder final : public Decoder {
 public:
  // Throws ConfigError naming the option when an index is out of range or
  // selected twice, or count/scale is invalid.
  explicit RawDecoder(RawOptions options);

  size_t num_features() const override { return features_.size(); }
  size_t num_labels() const override { return options_.features_only ? 0 : options_.labels.size(); }
  std::vector<std::string> feature_names() const override;
  std::vector<std::string> label_names() const override;
  std::optional<std::string> decode(std::string_view payload, float* features,
                                    float* labels) const override;
  std::string spec() const override;

 private:
  RawOptions options_;
  std::vector<size_t> features_;  // resolved
  std::vector<size_t> unlabelled_features_;  // features_only: features_ in a payload without the labels
};

}  // namespace streamml::data
