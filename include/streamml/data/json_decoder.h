// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// JsonDecoder: one JSON document -> float features and labels.
// Spec: json:features=PATH+..[,label=PATH+..][,features_only][,missing=error|zero|nan]
// PATH: `a`, nested `a.b.c`, array element `arr[2]`, element range
// `arr[0..3]` (a declared-length slice: four features arr[0]..arr[3]).
// Numbers, booleans (1/0) and numeric strings ("1.5") decode; null, absent
// and other values follow the missing policy.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "streamml/data/decoder.h"

namespace streamml::data {

struct JsonOptions {
  std::vector<std::string> features;  // paths (ranges allowed); at least one
  std::vector<std::string> labels;    // paths; empty = unlabeled
  MissingPolicy missing = MissingPolicy::kError;  // null, absent or non-numeric values
  bool features_only = false;  // decode no label (num_labels() is 0): documents may lack the label fields
};

// Thread-safety: immutable; decode() may run on several threads at once
// (each thread parses with its own thread_local simdjson parser).
class JsonDecoder final : public Decoder {
 public:
  // One step of a path: an object key or an array index.
  struct Step {
    std::string key;  // used when !is_index
    size_t index = 0;
    bool is_index = false;
  };

  // Throws ConfigError naming the option (features/label) and the path when
  // a path is malformed.
  explicit JsonDecoder(JsonOptions options);

  size_t num_features() const override { return num_features_; }
  size_t num_labels() const override { return names_.size() - num_features_; }
  std::vector<std::string> feature_names() const override;
  std::vector<std::string> label_names() const override;
  std::optional<std::string> decode(std::string_view document, float* features,
                                    float* labels) const override;
  std::string spec() const override;

 private:
  JsonOptions options_;
  size_t num_features_ = 0;
  std::vector<std::string> names_;             // features then labels, ranges expanded
  std::vector<std::vector<Step>> paths_;       // parallel to names_
  // Distinct first keys of the paths: decode() walks the top-level object
  // once instead of searching it once per path.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, KeyHash, std::equal_to<>> top_key_index_;
  std::vector<int32_t> top_key_of_path_;  // index into top_key_index_ values, or -1
};

}  // namespace streamml::data
