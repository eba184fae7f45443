// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_models.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "horse_race/race_record.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/train/trainer.h"

namespace streamml::demo {
namespace {

constexpr const char* kFeatureSetKey = "race.feature_set";

const char* set_name(FeatureSet set) { return set == FeatureSet::kLive ? "live" : "form"; }

}  // namespace

RaceHistoryStats read_race_history(const kafka::Config& config, const std::vector<std::string>& ranges,
                                   const std::function<void(const RecordedRace&)>& on_race) {
  data::KafkaDatasetOptions options;
  options.config = config;
  options.ranges = ranges;
  options.batch_size = 4096;
  options.keep_payloads = true;
  data::KafkaDataset dataset(options);
  RaceHistoryStats stats;
  RaceHistoryAssembler assembler(RaceHistoryOptions{.max_pending_races = 1u << 20});
  while (auto batch = dataset.next()) {
    for (size_t i = 0; i < batch->size; ++i) {
      const RaceRecord record = parse_race_record(batch->payloads[i], batch->meta[i].location());
      ++stats.records;
      if (auto race = assembler.add(record)) {
        if (race->missing_records > 0) ++stats.incomplete_races;
        ++stats.races;
        on_race(*race);
      }
    }
  }
  stats.pending_races = assembler.pending_races();
  stats.offsets = dataset.positions();
  if (stats.pending_races > 0) {
    log_warn("race history: {} race(s) without a result record were not used", stats.pending_races);
  }
  return stats;
}

RaceTrainingSet::RaceTrainingSet(size_t tick_stride) : tick_stride_(tick_stride) {
  if (tick_stride_ == 0) throw ConfigError("race training: tick_stride must be >= 1");
}

void RaceTrainingSet::add(const RecordedRace& race) {
  if (race.ticks.empty()) return;
  const TrainingRows live = training_rows(race.ticks, race.result, FeatureSet::kLive, tick_stride_);
  live_features_.insert(live_features_.end(), live.features.values.begin(), live.features.values.end());
  live_labels_.insert(live_labels_.end(), live.win.begin(), live.win.end());
  // The pre-race features do not change during a race: one row per horse (the first tick).
  const TrainingRows form = training_rows({race.ticks.front()}, race.result, FeatureSet::kFormOnly, 1);
  form_features_.insert(form_features_.end(), form.features.values.begin(), form.features.values.end());
  form_labels_.insert(form_labels_.end(), form.win.begin(), form.win.end());
  ++races_;
}

size_t RaceTrainingSet::rows(FeatureSet set) const {
  return set == FeatureSet::kLive ? live_labels_.size() : form_labels_.size();
}

model::Model RaceTrainingSet::train(FeatureSet set, const RaceModelOptions& options) const {
  if (races_ == 0) throw ConfigError("race training: no races to train on");
  const size_t cols = feature_names(set).size();
  const bool live = set == FeatureSet::kLive;
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features.num_features = cols;
  config.features.feature_names = feature_names(set);
  config.spec = model::parse_model_spec(options.spec);
  config.seed = options.seed;
  model::Model model = model::Model::create(config);

  data::InMemorySourceOptions source_options;
  source_options.batch_size = live ? options.batch_size : options.form_batch_size;
  source_options.shuffle = true;
  source_options.seed = options.seed;
  source_options.feature_names = feature_names(set);
  data::InMemorySource source(live ? live_features_ : form_features_, cols, live ? live_labels_ : form_labels_, 1,
                              source_options);
  train::TrainOptions train_options;
  train_options.learning_rate = options.learning_rate;
  train_options.epochs = std::max(1, live ? options.epochs : options.form_epochs);
  train_options.seed = options.seed;
  const train::History history = train::fit(model, source, train_options);
  const double loss = history.epochs.empty() || !history.epochs.back().contains("loss")
                          ? std::numeric_limits<double>::quiet_NaN()
                          : history.epochs.back().at("loss");
  log_info("trained the {} race model on {} races, {} rows, {} epochs ({} steps), final loss {:.4f}", set_name(set),
           races_, rows(set), history.epochs_run, history.steps, loss);
  model.set_metadata(kFeatureSetKey, set_name(set));
  model.set_metadata("race.races", std::to_string(races_));
  model.set_metadata("race.rows", std::to_string(rows(set)));
  model.set_metadata("race.tick_stride", live ? std::to_string(tick_stride_) : "first tick");
  return model;
}

FeatureSet race_model_feature_set(const model::Model& model) {
  const auto& meta = model.metadata();
  const auto it = meta.find(kFeatureSetKey);
  const std::string value = it == meta.end() ? "" : it->second;
  if (value == "live" && model.num_features() == feature_names(FeatureSet::kLive).size()) return FeatureSet::kLive;
  if (value == "form" && model.num_features() == feature_names(FeatureSet::kFormOnly).size()) {
    return FeatureSet::kFormOnly;
  }
  throw InputError(fmt::format("the model is not a race model (metadata {}='{}', {} features)", kFeatureSetKey,
                               value, model.num_features()));
}

LogitScorer model_scorer(std::shared_ptr<model::Model> model) {
  return [model = std::move(model)](const FeatureMatrix& m) {
    data::Batch batch;
    batch.size = m.rows;
    batch.num_features = m.cols;
    batch.features = m.values;
    batch.meta.resize(m.rows);
    const model::Predictions p = model->predict(batch);
    std::vector<float> logits(p.size);
    constexpr double kEps = 1.125e-7;  // logit(1 - kEps) ~ 16
    for (size_t i = 0; i < p.size; ++i) {
      const double q = std::clamp(static_cast<double>(p.values[i]), kEps, 1.0 - kEps);
      logits[i] = static_cast<float>(std::log(q / (1.0 - q)));
    }
    return logits;
  };
}

}  // namespace streamml::demo
