// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Win predictors and the hook that runs any of them over a race. A predictor
// sees one race at one moment (the field's telemetry and its kLive feature
// matrix) and returns one win probability per horse. Baselines here need no
// model: "current leader wins", "uniform" and a form heuristic; a trained
// model plugs in through scorer_predictor() (logits -> softmax), with the
// form-only feature subset for the pre-race model.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "horse_race/race.h"
#include "horse_race/race_features.h"
#include "horse_race/race_report.h"

namespace streamml::demo {

// Returns one probability per horse of `field` (same order), summing to 1.
// `features` is features_for_tick(field, state, FeatureSet::kLive).
// A predictor may be called from one thread at a time.
using WinPredictor = std::function<std::vector<double>(const Tick& field, const FeatureMatrix& features)>;

// Probability 1 for the current leader (position 1), 0 for the others. With
// the ranking's tie rule this ranks the field by current position.
WinPredictor leader_predictor();

// 1/n for every horse: the chance level.
WinPredictor uniform_predictor();

// A hand-set pre-race rating from the form features (win rate, mean and last
// finishes, rest, weight), softmax-normalised. Needs no training.
WinPredictor form_heuristic_predictor();

// Wraps a model: selects the columns of `set` from the kLive features, calls
// `scorer`, and softmax-normalises its logits within the race. Throws
// InputError when the scorer returns the wrong number of logits or a
// non-finite one.
WinPredictor scorer_predictor(LogitScorer scorer, FeatureSet set = FeatureSet::kLive);

// Replays a race tick by tick through `predictor` (every `tick_stride`-th
// tick, >= 1, plus the last one), timing each call, and records what it said.
RaceTrace trace_race(const std::vector<Tick>& ticks, const RaceResult& result, const WinPredictor& predictor,
                     size_t tick_stride = 1);

}  // namespace streamml::demo
