// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/online_trainer.h"

#include <fmt/format.h>

#include <optional>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/model/model.h"

namespace streamml::train {
namespace {

int64_t metadata_count(const model::Model& model, const std::string& key) {
  auto it = model.metadata().find(key);
  if (it == model.metadata().end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    throw InputError(fmt::format("model metadata '{}' is not a count: '{}'", key, it->second));
  }
}

}  // namespace

OnlineTrainer::OnlineTrainer(model::Model& model, Trainer& trainer, OnlineOptions options)
    : model_(model), trainer_(trainer), options_(std::move(options)) {
  if (options_.checkpoint_every < 1) {
    throw ConfigError(fmt::format("checkpoint-every {} is invalid: use 1 or more batches", options_.checkpoint_every));
  }
  if (options_.max_batches < 0) {
    throw ConfigError(fmt::format("max-batches {} is invalid: use 0 (no limit) or more", options_.max_batches));
  }
}

void OnlineTrainer::resume(const model::Model& model, data::KafkaDataset& dataset) {
  if (model.offsets().empty()) return;
  std::string state = "group";
  for (const auto& o : model.offsets()) state += fmt::format(" {}:{}:{}", o.topic, o.partition, o.offset);
  dataset.restore(state);
  log_info("resuming online training from the model's offsets ({})", state.substr(6));
}

void OnlineTrainer::checkpoint(data::BatchSource& source, OnlineResult& result) {
  // A step with a finite loss can still make the weights overflow: such a
  // model is never saved, and its offsets are never committed.
  if (!has_finite_weights(model_)) {
    throw DivergenceError(fmt::format("training diverged: the weights are not finite after batch {}; the checkpoint "
                                      "is not written and no offset is committed (try a lower learning_rate)",
                                      result.batches));
  }
  if (!options_.checkpoint_path.empty()) {
    model_.save(options_.checkpoint_path);
    ++result.checkpoints;
    log_debug("online checkpoint {} saved to {} after {} batches", result.checkpoints, options_.checkpoint_path,
              result.batches);
  }
  // After the save: the group never gets ahead of the checkpoint.
  source.commit();
}

OnlineResult OnlineTrainer::run(data::BatchSource& source, const Callbacks& callbacks) {
  OnlineResult result;
  const int64_t records_before = metadata_count(model_, kOnlineRecordsKey);
  TrainContext context;
  context.model = &model_;
  context.options = &trainer_.options();
  context.epochs = 1;
  for (Callback* cb : callbacks) cb->on_train_begin(context);
  int64_t since_checkpoint = 0;
  auto predict_batch = [&](const data::Batch& batch) {
    model::Predictions predictions = model_.predict(batch);
    for (Callback* cb : callbacks) cb->on_predict_batch_end(batch, predictions);
  };
  while (!stop_requested_.load()) {
    std::optional<data::Batch> batch = source.next();
    if (!batch) break;
    if (batch->empty()) continue;
    // Test-then-train: predictions come from the model before it saw the
    // batch, unless it has no standardisation statistics yet (the first
    // update takes them from this batch).
    const bool predict_first = options_.predict && (model_.has_stats() || !model_.standardizes());
    if (predict_first) predict_batch(*batch);
    for (Callback* cb : callbacks) cb->on_batch_begin(context, context.step);
    Metrics metrics = trainer_.train_step(*batch);
    if (options_.predict && !predict_first) predict_batch(*batch);
    ++result.batches;
    result.records += static_cast<int64_t>(batch->size);
    model_.set_metadata(kOnlineRecordsKey, std::to_string(records_before + result.records));
    ++context.step;
    ++context.epoch_step;
    context.records += static_cast<int64_t>(batch->size);
    context.epoch_records += static_cast<int64_t>(batch->size);
    Logs logs(metrics.begin(), metrics.end());
    logs["batch_size"] = static_cast<double>(batch->size);
    result.last_metrics = metrics;
    for (Callback* cb : callbacks) cb->on_batch_end(context, context.step, logs);
    if (options_.checkpoint_path.empty() || ++since_checkpoint >= options_.checkpoint_every) {
      checkpoint(source, result);
      since_checkpoint = 0;
    }
    if (context.stop_training) break;
    if (options_.max_batches > 0 && result.batches >= options_.max_batches) break;
  }
  if (since_checkpoint > 0 || (result.checkpoints == 0 && !options_.checkpoint_path.empty())) {
    checkpoint(source, result);
  }
  Logs logs(result.last_metrics.begin(), result.last_metrics.end());
  for (Callback* cb : callbacks) cb->on_train_end(context, logs);
  log_info("online training: {} batches, {} records, {} checkpoints", result.batches, result.records,
           result.checkpoints);
  return result;
}

}  // namespace streamml::train
