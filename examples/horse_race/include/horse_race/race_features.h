// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Model features for win prediction. A feature row describes one horse at one
// moment *relative to the whole field* (progress, position, gaps, speed versus
// the field, speed trend) plus its public form, so a model scoring every row
// of one race moment and softmax-normalising the scores within the race
// (win_probability.h) gives win probabilities. The feature list with meanings
// and scales is documented in docs/horse_race.md and by feature_names().
//
// The same code computes features for training (tick by tick from history)
// and for live scoring (record by record), so there is no train/serve skew.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "horse_race/race.h"

namespace streamml::demo {

// Which columns a feature matrix holds.
enum class FeatureSet {
  kLive,      // everything: in-race state and form (the live model)
  kFormOnly,  // form and field size only (the pre-race model baseline)
};

// Feature names of a set, in column order.
const std::vector<std::string>& feature_names(FeatureSet set = FeatureSet::kLive);
// Column indices of the kFormOnly features within the kLive row.
const std::vector<size_t>& form_feature_indices();

// Row-major float features, one row per horse (same layout as data::Batch).
struct FeatureMatrix {
  size_t rows = 0;               // horses
  size_t cols = 0;               // features per horse
  std::vector<float> values;     // [rows, cols]
  std::vector<int32_t> horses;   // horse number of each row

  const float* row(size_t i) const { return values.data() + i * cols; }
  float at(size_t r, size_t c) const { return values[r * cols + c]; }
};

// Scores feature rows (one logit per row), e.g. a LibTorch model's forward
// pass (race_models.h: model_scorer()); race_predictors.h turns it into a
// win predictor.
using LogitScorer = std::function<std::vector<float>(const FeatureMatrix& features)>;

// Keeps only `columns` (indices into m's columns), in that order.
FeatureMatrix select_columns(const FeatureMatrix& m, std::span<const size_t> columns);

// Per-race state for features that need history (speed trend) and the live
// snapshot of the field (latest record of each horse). Feed it the records of
// one race in time order: whole ticks (training) or single records (live).
// Not thread-safe: one owner per race.
class RaceFeatureState {
 public:
  // Number of a horse's previous speeds the trend compares against (2 s at 0.5 s ticks).
  static constexpr size_t kTrendWindow = 4;

  // Records one telemetry record. Returns false, changing nothing, when the
  // record belongs to another race than the first one seen, or is not newer
  // than the horse's latest record (duplicate or out-of-order delivery).
  bool observe(const Telemetry& record);

  // Observes every record of a tick and returns its features (kLive set).
  FeatureMatrix next_tick(const Tick& field);

  // The latest record of every horse seen so far, in horse-number order.
  Tick field() const;

  // Current speed minus the mean of the horse's previous kTrendWindow speeds
  // (m/s, positive = accelerating); 0 before the horse has two records.
  float speed_trend(int32_t horse) const;

  // The race of the first record observed (0 before any).
  int64_t race_id() const { return race_id_; }
  // Number of records accepted.
  size_t records() const { return records_; }

 private:
  struct HorseHistory {
    Telemetry latest;
    std::deque<double> speeds;  // previous speeds, oldest first, at most kTrendWindow
  };
  int64_t race_id_ = 0;
  bool started_ = false;
  size_t records_ = 0;
  std::map<int32_t, HorseHistory> horses_;
};

// Features of every horse of `field` (one race at one moment, any order; rows
// follow the order of `field`). `state` supplies the speed trend; without it
// the trend is 0. Never throws on odd input: values are clamped and finite.
FeatureMatrix features_for_tick(const Tick& field, const RaceFeatureState* state = nullptr,
                                FeatureSet set = FeatureSet::kLive);

// Training data for a race: a feature row per horse per used tick, grouped by tick.
struct TrainingRows {
  FeatureMatrix features;                // rows of all used ticks, tick after tick
  std::vector<float> win;                // 1 for the eventual winner, else 0
  std::vector<int32_t> finish_position;  // eventual finishing position, 1-based
  std::vector<size_t> group_begin;       // row offset of each tick, plus a final rows() sentinel
  std::vector<double> time_s;            // race time of each group
};

// Builds training rows from a race's ticks and result, using every
// `tick_stride`-th tick (>= 1; the first and last ticks are always used).
// Throws InputError when a horse of the ticks is missing from the result.
TrainingRows training_rows(const std::vector<Tick>& ticks, const RaceResult& result,
                           FeatureSet set = FeatureSet::kLive, size_t tick_stride = 1);

}  // namespace streamml::demo
