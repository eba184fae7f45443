// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/concept_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

// Probability that an incremental hyperplane weight reverses its direction
// at a record (Hulten et al. 2001 use 10 %).
constexpr double kDirectionReversal = 0.1;

}  // namespace

ConceptStreamKind parse_concept_stream(std::string_view name) {
  if (name == "sea") return ConceptStreamKind::kSea;
  if (name == "hyperplane") return ConceptStreamKind::kHyperplane;
  throw ConfigError(fmt::format("generator '{}' is unknown: use sea or hyperplane", name));
}

void ConceptStreamOptions::validate() const {
  for (size_t i = 0; i < drift_at.size(); ++i) {
    if (drift_at[i] < 0 || (i > 0 && drift_at[i] <= drift_at[i - 1])) {
      throw ConfigError("drift_at must hold ascending record numbers >= 0");
    }
  }
  if (!(noise >= 0.0 && noise < 0.5))
    throw ConfigError(fmt::format("noise {} is invalid: use 0 <= noise < 0.5", noise));
  if (sea_concepts.empty()) throw ConfigError("sea_concepts is empty");
  for (int c : sea_concepts) {
    if (c < 0 || c > 3) throw ConfigError(fmt::format("SEA concept {} is invalid: use 0, 1, 2 or 3", c));
  }
  if (hyperplane_features < 2) {
    throw ConfigError(fmt::format("hyperplane_features {} is invalid: use 2 or more", hyperplane_features));
  }
  if (!(hyperplane_magnitude >= 0.0)) {
    throw ConfigError(fmt::format("hyperplane_magnitude {} is invalid: use 0 or more", hyperplane_magnitude));
  }
}

ConceptStream::ConceptStream(ConceptStreamOptions options) : options_(std::move(options)), random_(options_.seed) {
  options_.validate();
  start_segment(0);
}

int ConceptStream::num_features() const {
  return options_.kind == ConceptStreamKind::kSea ? 3 : options_.hyperplane_features;
}

void ConceptStream::start_segment(int segment) {
  segment_ = segment;
  if (options_.kind == ConceptStreamKind::kSea) {
    const int sea_concept = options_.sea_concepts[static_cast<size_t>(segment) % options_.sea_concepts.size()];
    threshold_ = kSeaThresholds[sea_concept];
    return;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  weights_.assign(static_cast<size_t>(options_.hyperplane_features), 0.0);
  directions_.assign(weights_.size(), 1.0);
  for (size_t i = 0; i < weights_.size(); ++i) {
    weights_[i] = unit(random_);
    directions_[i] = unit(random_) < 0.5 ? -1.0 : 1.0;
  }
}

ConceptSample ConceptStream::next() {
  while (static_cast<size_t>(segment_) < options_.drift_at.size() &&
         position_ >= options_.drift_at[static_cast<size_t>(segment_)]) {
    start_segment(segment_ + 1);
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  ConceptSample sample;
  sample.segment = segment_;
  int label = 0;
  if (options_.kind == ConceptStreamKind::kSea) {
    std::uniform_real_distribution<double> feature(0.0, 10.0);
    double f[3];
    for (double& v : f) v = feature(random_);
    sample.features = {static_cast<float>(f[0]), static_cast<float>(f[1]), static_cast<float>(f[2])};
    // The label follows the features as written (floats), so a reader of
    // the CSV sees a consistent concept.
    label = static_cast<double>(sample.features[0]) + static_cast<double>(sample.features[1]) <= threshold_ ? 1 : 0;
  } else {
    double dot = 0.0;
    for (double w : weights_) {
      const auto x = static_cast<float>(unit(random_));
      sample.features.push_back(x);
      dot += w * static_cast<double>(x);
    }
    const double half = std::accumulate(weights_.begin(), weights_.end(), 0.0) / 2.0;
    label = dot >= half ? 1 : 0;
    if (options_.hyperplane_magnitude > 0.0) {
      for (size_t i = 0; i < weights_.size(); ++i) {
        if (unit(random_) < kDirectionReversal) directions_[i] = -directions_[i];
        weights_[i] = std::clamp(weights_[i] + directions_[i] * options_.hyperplane_magnitude, 0.0, 1.0);
      }
    }
  }
  if (options_.noise > 0.0 && unit(random_) < options_.noise) label = 1 - label;
  sample.label = label;
  ++position_;
  return sample;
}

std::string ConceptStream::next_csv() {
  const ConceptSample s = next();
  std::string line;
  for (float v : s.features) line += fmt::format("{},", v);
  return line + (s.label ? "1" : "0");
}

}  // namespace streamml::data
