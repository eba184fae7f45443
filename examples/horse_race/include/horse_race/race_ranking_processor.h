// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RaceRankingProcessor: the ranking service's serve::Processor. Every input
// record is one live telemetry line (live topic). The processor keeps each
// race's state (RaceFeatureState: latest record per horse, speed history),
// recomputes the features of the whole field after the record, and scores the
// field with the trained model. All field rows of a micro-batch go to the
// scorer in one call (one forward pass per micro-batch, not per record);
// softmax within the race gives the win probabilities, which the finish line
// then overrides (settle_finished(): a runner over the line keeps its
// finishing position, the winner gets 1 once it crossed). The output for each
// input is a ranking line (race_ranking.h) keyed like the input, carrying the
// input's kProducedAtHeader so the leaderboard can measure latency.
//
// Rejections (never thrown, one per bad input, with the reason): a line that
// does not parse (named topic:partition:offset), and a stale or duplicate
// record (not newer than the horse's latest one, e.g. an at-least-once
// redelivery). A race is forgotten once every horse has finished, or when
// more than max_races are open (the least recently updated one, logged).
//
// Thread-safety: not thread-safe; called from the serving loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "horse_race/race_features.h"
#include "horse_race/race_predictors.h"
#include "streamml/serve/processor.h"

namespace streamml::demo {

struct RaceRankingOptions {
  size_t max_races = 1024;  // races tracked at once (least recently updated forgotten beyond it)
  std::string version;      // stamped into outputs by the serving loop (e.g. the model file's version)
};

class RaceRankingProcessor final : public serve::Processor {
 public:
  // `scorer` gets the rows of `set` (kLive: every feature; kFormOnly: the form
  // columns) of any number of fields at once and returns one logit per row.
  RaceRankingProcessor(LogitScorer scorer, FeatureSet set = FeatureSet::kLive, RaceRankingOptions options = {});

  std::string decoder_spec() const override { return {}; }
  void process(const data::Batch& batch, std::vector<serve::ProcessResult>& results) override;
  std::string version() const override { return options_.version; }

  size_t active_races() const { return races_.size(); }
  uint64_t rankings() const { return rankings_; }
  uint64_t rejected() const { return rejected_; }

 private:
  struct RaceState {
    RaceFeatureState features;
    uint64_t updates = 0;
    uint64_t last_used = 0;
  };
  RaceState& race_for(int64_t race_id);

  LogitScorer scorer_;
  FeatureSet set_;
  RaceRankingOptions options_;
  std::map<int64_t, RaceState> races_;
  uint64_t clock_ = 0;
  uint64_t rankings_ = 0;
  uint64_t rejected_ = 0;
};

}  // namespace streamml::demo
