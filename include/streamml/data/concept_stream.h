// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ConceptStream: the standard synthetic concept-drift streams, for tests,
// benchmarks and `streamml generate`, with drifts at known records:
//
//   * SEA concepts (Street & Kim, KDD 2001): three features uniform in
//     [0, 10]; the label is 1 when f1 + f2 <= theta, else 0 (f3 is
//     irrelevant). The four concepts have theta = 8, 9, 7 and 9.5; segment i
//     (records before the first drift point, between the first and the
//     second, ...) uses concept sea_concepts[i % size].
//   * Rotating hyperplane (Hulten, Spencer & Domingos, KDD 2001): d features
//     uniform in [0, 1], weights w uniform in [0, 1]; the label is 1 when
//     sum w_i x_i >= sum w_i / 2. Each drift point draws new weights (an
//     abrupt drift); hyperplane_magnitude > 0 also moves every weight by that
//     much per record, each in a direction that reverses with probability
//     0.1 per record (an incremental drift).
//
// With `noise` > 0 each label is flipped with that probability. The stream
// is deterministic for a seed. CSV lines are "f1,f2,...,label" (SEA: decode
// with csv:columns=4,label=3). Not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace streamml::data {

enum class ConceptStreamKind { kSea, kHyperplane };

// Parses "sea|hyperplane"; throws ConfigError naming the value.
ConceptStreamKind parse_concept_stream(std::string_view name);

struct ConceptStreamOptions {
  ConceptStreamKind kind = ConceptStreamKind::kSea;  // which generator
  uint64_t seed = 1;                                 // seeds features, labels noise and weights
  std::vector<int64_t> drift_at{};                   // records (0-based) where a new concept starts, ascending
  double noise = 0.0;                                // probability of a flipped label, in [0, 0.5)
  std::vector<int> sea_concepts{0, 1, 2, 3};         // SEA: concept (0..3) of each segment, cycled
  int hyperplane_features = 3;                       // hyperplane: features (>= 2)
  double hyperplane_magnitude = 0.0;                 // hyperplane: weight change per record (>= 0)

  // Throws ConfigError naming the first invalid field.
  void validate() const;
};

struct ConceptSample {
  std::vector<float> features;
  int label = 0;    // 0 or 1 (after noise)
  int segment = 0;  // segments started before this record (0 before the first drift)
};

class ConceptStream {
 public:
  // SEA's thresholds of concepts 0..3.
  static constexpr double kSeaThresholds[4] = {8.0, 9.0, 7.0, 9.5};

  // Throws ConfigError for invalid options.
  explicit ConceptStream(ConceptStreamOptions options);

  ConceptSample next();
  // The next sample as a CSV line "f1,...,fd,label" (no newline).
  std::string next_csv();
  // Records generated so far.
  int64_t position() const { return position_; }
  int num_features() const;

 private:
  void start_segment(int segment);

  ConceptStreamOptions options_;
  std::mt19937_64 random_;
  int64_t position_ = 0;
  int segment_ = 0;
  double threshold_ = 0.0;          // SEA
  std::vector<double> weights_;     // hyperplane
  std::vector<double> directions_;  // hyperplane, +1 / -1 per weight
};

}  // namespace streamml::data
