// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Training the demo's two models from the history topic, and using them:
//   * the live model: a built-in MLP over every kLive feature (in-race state
//     plus form), trained on one row per horse per (strided) tick, label 1
//     for the eventual winner (binary cross-entropy);
//   * the pre-race model: the same over the kFormOnly features, one row per
//     horse per race (what is known before the start).
// read_race_history() reads the history topic with KafkaDataset (bounded
// ranges, payloads only) and assembles the races (RaceHistoryAssembler);
// rows come from training_rows(), the same feature code the live service
// runs, so there is no train/serve skew. A model's score is its logit
// (log-odds of winning); win probabilities are the softmax of the field's
// logits (win_probability.h).
//
// No LibTorch here: model::Model keeps it behind a pimpl. Functions are
// thread-compatible; a Model is not thread-safe (one scorer per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "horse_race/race_features.h"
#include "horse_race/race_history.h"
#include "horse_race/race_predictors.h"
#include "streamml/kafka/config.h"
#include "streamml/kafka/types.h"
#include "streamml/model/model.h"

namespace streamml::demo {

// What reading the history topic found.
struct RaceHistoryStats {
  size_t races = 0;                                 // complete races handed to the callback
  size_t records = 0;                               // records read
  size_t incomplete_races = 0;                      // races with missing telemetry (handed on, counted)
  size_t pending_races = 0;                         // telemetry without a result at the end (not used)
  std::vector<kafka::TopicPartitionOffset> offsets;  // next offset per partition after the read
};

// Reads `ranges` (range specs, e.g. "race-history" for every partition up to
// the high watermark) with KafkaDataset and calls `on_race` for every race
// once its result record arrives. Throws InputError naming
// topic:partition:offset for a malformed record, DataLossError when records
// are gone, kafka::KafkaException when the topic is missing.
RaceHistoryStats read_race_history(const kafka::Config& config, const std::vector<std::string>& ranges,
                                   const std::function<void(const RecordedRace&)>& on_race);

struct RaceModelOptions {
  std::string spec = "mlp:32,16";  // model::ModelSpec of the network (both models)
  int epochs = 4;                  // passes over the training rows
  double learning_rate = 2e-3;     // Adam step size
  size_t batch_size = 512;         // rows per optimizer step
  size_t tick_stride = 4;          // live model: every n-th tick of a race (2 s at 0.5 s ticks)
  int form_epochs = 40;            // pre-race model: passes over its (one row per horse) training rows
  size_t form_batch_size = 64;     // pre-race model: rows per optimizer step
  uint64_t seed = 42;              // weight initialisation and shuffling
};

// Training rows of both models, accumulated race by race (so the history
// never has to be held in memory). Not thread-safe.
class RaceTrainingSet {
 public:
  // `tick_stride` (>= 1): the live model uses every n-th tick of a race.
  explicit RaceTrainingSet(size_t tick_stride = 4);

  // Adds the live rows (strided ticks) and the pre-race rows (one per horse).
  // Throws InputError when the race's result does not match its telemetry.
  void add(const RecordedRace& race);

  size_t races() const { return races_; }
  size_t rows(FeatureSet set) const;

  // Trains a model for `set` (kLive: the live model; kFormOnly: the pre-race
  // model). Its metadata records the feature set ("race.feature_set" = "live"
  // or "form"), races and rows. Throws ConfigError when no race was added.
  model::Model train(FeatureSet set, const RaceModelOptions& options = {}) const;

 private:
  size_t tick_stride_;
  size_t races_ = 0;
  std::vector<float> live_features_, live_labels_;
  std::vector<float> form_features_, form_labels_;
};

// The feature set a model was trained on (from its metadata). Throws
// InputError when the model is not a race model.
FeatureSet race_model_feature_set(const model::Model& model);

// A scorer calling `model` (one forward pass per call): the logit of each
// row's win probability, clamped to +-16. The scorer shares the model and must
// be used from one thread at a time.
LogitScorer model_scorer(std::shared_ptr<model::Model> model);

}  // namespace streamml::demo
