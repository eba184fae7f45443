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

// Where a runner stands besides its probability: the ranking's tie-breakers.
struct RunnerStanding {
  int32_t position = 0;   // current position; the finishing position once finished
  bool finished = false;  // crossed the line
};

// Indices into `probabilities` ordered from most to least likely winner. Ties
// go to finished runners (by finishing position), then to unfinished ones (by
// current position), then to the lower index; `standings` has the same size.
// With settle_finished() probabilities, the finished runners of a decided
// race come out in finishing order, ahead of the rest.
std::vector<size_t> rank_by_probability(std::span<const double> probabilities,
                                        std::span<const RunnerStanding> standings);

// Standings of a field, in field order.
std::vector<RunnerStanding> standings_of(const Tick& field);

// Makes a model's win probabilities agree with what the race has settled. A
// runner that crossed the line keeps its finishing position (race.h), so:
// - once the winner (finished, position 1) is in `field`, it gets 1 and every
//   other runner 0;
// - before that, a finished runner cannot win (someone finished ahead of it
//   within the same tick) and gets 0, and the unfinished runners share 1 in
//   proportion to `probabilities` (equally when the model gave them nothing).
// Without a finished runner, or when every runner finished but none first
// (not a field the simulator makes), `probabilities` come back unchanged.
// `probabilities` is aligned with `field` (same size, else unchanged).
std::vector<double> settle_finished(const Tick& field, std::span<const double> probabilities);

}  // namespace streamml::demo
