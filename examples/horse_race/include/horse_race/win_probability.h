// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Win probabilities from per-horse scores: a model scores every horse of one
// race at one moment; softmax within the race turns the scores into
// probabilities that sum to 1, and the ranking is the order of probabilities.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "horse_race/race.h"

namespace streamml::demo {

// Numerically stable softmax of one race's logits (sums to 1; empty in, empty
// out). Throws InputError naming the row when a logit is NaN or infinite.
std::vector<double> softmax_within_race(std::span<const float> logits);
std::vector<double> softmax_within_race(std::span<const double> logits);

// Indices into `probabilities` ordered from most to least likely winner. Ties
// go to the better current position (positions[i], when given; same size),
// then to the lower index.
std::vector<size_t> rank_by_probability(std::span<const double> probabilities,
                                        std::span<const int32_t> positions = {});

// Convenience: positions of a field, in field order.
std::vector<int32_t> positions_of(const Tick& field);

}  // namespace streamml::demo
