// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/online_trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/model/model.h"
#include "streamml/train/distributed.h"

namespace streamml::train {
namespace {

// Distributed: how long a rank waits for records before it steps without.
constexpr std::chrono::milliseconds kIdleStep{50};

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
  if (options_.auc_every < 1) {
    throw ConfigError(fmt::format("auc_every {} is invalid: use 1 or more batches", options_.auc_every));
  }
  options_.drift.validate();
  const bool resets = options_.on_drift.kind == DriftActionKind::kResetModel ||
                      options_.on_drift.kind == DriftActionKind::kRetrainWindow;
  if (resets && model_.kind() != model::ModelKind::kMlp) {
    throw ConfigError(fmt::format("drift action {} resets the weights, which a TorchScript model cannot do",
                                  options_.on_drift.to_string()));
  }
  base_learning_rate_ = trainer_.options().learning_rate;
  if (options_.evaluate) {
    evaluator_.emplace(model_.task(), options_.prequential);
    auto saved = model_.metadata().find(kPrequentialStateKey);
    if (saved != model_.metadata().end()) {
      try {
        evaluator_->restore(saved->second);
      } catch (const InputError& e) {
        log_warn("the model's prequential state cannot be restored, evaluation starts afresh: {}", e.what());
      }
    }
  }
  detector_ = make_drift_detector(options_.drift);
  if (detector_ && !options_.evaluate) {
    throw ConfigError("a drift detector watches the prequential errors: it needs evaluate");
  }
  auto saved = model_.metadata().find(kDriftStateKey);
  if (detector_ && saved != model_.metadata().end()) {
    try {
      detector_->restore(saved->second);
      log_info("drift detector {} restored from the model: {} drifts so far, window {}",
               drift_detector_name(detector_->kind()), detector_->detections(), detector_->width());
    } catch (const InputError& e) {
      log_info("the model's drift state is not one of a {} detector, detection starts afresh ({})",
               drift_detector_name(detector_->kind()), e.what());
    }
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
  // The evaluator and the detector have seen exactly the trained records:
  // their states go with the offsets.
  if (evaluator_) model_.set_metadata(kPrequentialStateKey, evaluator_->state());
  if (detector_) model_.set_metadata(kDriftStateKey, detector_->state());
  if (ProcessGroup* group = trainer_.process_group()) {
    // Rank 0 saves every rank's offsets; each rank commits its own only
    // after that save.
    std::vector<std::vector<kafka::TopicPartitionOffset>> per_rank;
    for (const std::string& text : group->all_gather(offsets_to_text(model_.offsets()), "gathering the offsets"))
      per_rank.push_back(offsets_from_text(text));
    if (group->rank() == 0 && !options_.checkpoint_path.empty()) {
      model_.set_offsets(merge_offsets(per_rank));
      model_.save(options_.checkpoint_path);
      ++result.checkpoints;
      log_debug("online checkpoint {} of {} ranks saved to {}", result.checkpoints, group->world_size(),
                options_.checkpoint_path);
    }
    group->barrier("waiting for rank 0's checkpoint");
    source.commit();
    return;
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

std::vector<DriftEvent> OnlineTrainer::evaluate(const data::Batch& batch, const model::Predictions& predictions) {
  std::vector<DriftEvent> events;
  if (batch.num_labels != 1 || batch.labels.size() < batch.size) return events;  // train_step reports it
  std::vector<double> errors;
  errors.reserve(batch.size);
  const int64_t before = evaluator_->count();
  evaluator_->add(predictions, batch.labels.data(), &errors);
  if (!detector_) return events;
  for (size_t r = 0; r < errors.size(); ++r) {
    if (!detector_->update(errors[r])) continue;
    DriftEvent event;
    if (r < batch.meta.size()) {
      event.topic = batch.meta[r].topic;
      event.partition = batch.meta[r].partition;
      event.offset = batch.meta[r].offset;
    }
    event.record = before + static_cast<int64_t>(r) + 1;
    event.drifts = detector_->detections();
    event.detector = drift_detector_name(detector_->kind());
    event.statistic = detector_->statistic();
    event.error = detector_->mean();
    event.action = options_.on_drift.to_string();
    event.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    events.push_back(std::move(event));
  }
  return events;
}

void OnlineTrainer::respond_to_drift(int64_t drift_number) {
  const DriftAction& action = options_.on_drift;
  switch (action.kind) {
    case DriftActionKind::kLog: break;
    case DriftActionKind::kResetOptimizer: trainer_.reset_optimizer(); break;
    case DriftActionKind::kBoostLr:
      // A drift during a boost starts it over; the rate is not boosted twice.
      trainer_.set_learning_rate(base_learning_rate_ * action.factor);
      boost_left_ = action.batches;
      break;
    case DriftActionKind::kResetModel:
      trainer_.reset_weights(options_.seed + static_cast<uint64_t>(drift_number));
      break;
    case DriftActionKind::kRetrainWindow: {
      trainer_.reset_weights(options_.seed + static_cast<uint64_t>(drift_number));
      int64_t records = 0;
      for (const data::Batch& b : recent_) {
        trainer_.train_step(b);
        records += static_cast<int64_t>(b.size);
      }
      log_info("drift response: the model was retrained on the last {} records", records);
      break;
    }
  }
}

void OnlineTrainer::remember(const data::Batch& batch) {
  if (options_.on_drift.kind != DriftActionKind::kRetrainWindow) return;
  recent_.push_back(batch);
  recent_records_ += static_cast<int64_t>(batch.size);
  // Keeps the fewest batches that hold at least `records` records.
  while (!recent_.empty()) {
    const auto oldest = static_cast<int64_t>(recent_.front().size);
    if (recent_records_ - oldest < options_.on_drift.records) break;
    recent_records_ -= oldest;
    recent_.pop_front();
  }
}

void OnlineTrainer::count_down_boost() {
  if (boost_left_ > 0 && --boost_left_ == 0) trainer_.set_learning_rate(base_learning_rate_);
}

OnlineResult OnlineTrainer::run(data::BatchSource& source, const Callbacks& callbacks) {
  ProcessGroup* group = trainer_.process_group();
  if (group != nullptr && options_.on_drift.kind != DriftActionKind::kLog && detector_) {
    throw ConfigError(fmt::format("drift action {} would change one rank's model only: distributed online training "
                                  "logs drifts (--on-drift log)",
                                  options_.on_drift.to_string()));
  }
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
    if (options_.predict) {
      for (Callback* cb : callbacks) cb->on_predict_batch_end(batch, predictions);
    }
    return predictions;
  };
  // The training step's forward pass is the prediction before the update
  // when training mode predicts as eval mode does (a built-in network
  // without dropout): evaluation then costs no second forward pass.
  const bool fused = model_.kind() == model::ModelKind::kMlp && model_.spec().dropout == 0.0;
  // Distributed: every rank takes part in every step (with zero gradients
  // when it has no records now), and steps, checkpoints and stops are
  // counted over all ranks, so they happen at the same step everywhere.
  bool ended = false;
  auto* stream = dynamic_cast<data::KafkaDataset*>(&source);  // consumer groups wait for records in next()
  int64_t steps = 0;            // steps with records on some rank
  int64_t all_records = 0;      // records of those steps, over all ranks
  auto limit_reached = [&] { return options_.max_batches > 0 && steps >= options_.max_batches; };
  while (group != nullptr || !stop_requested_.load()) {
    std::optional<data::Batch> batch;
    // Distributed: a rank without records now steps with the others rather
    // than block them in next().
    bool asked = false;
    if (!ended && (group == nullptr || stream == nullptr || stream->wait_for_batch(kIdleStep))) {
      batch = source.next();
      asked = true;
    }
    if (group == nullptr) {
      if (!batch) break;
      if (batch->empty()) continue;
    } else {
      if (asked && !batch) ended = true;
      if (batch && batch->empty()) batch.reset();
      if (!batch) {
        Trainer::CollectiveStep step =
            trainer_.collective_step(nullptr, ended, stop_requested_.load() || context.stop_training);
        if (step.records > 0) {
          ++steps;
          all_records += step.records;
          model_.set_metadata(kOnlineRecordsKey, std::to_string(records_before + all_records));
          if (++since_checkpoint >= options_.checkpoint_every) {
            checkpoint(source, result);
            since_checkpoint = 0;
          }
        }
        if (step.stop || (step.records == 0 && step.all_ended) || limit_reached()) break;
        continue;
      }
    }
    // Test-then-train: predictions come from the model before it saw the
    // batch, unless it has no standardisation statistics yet (the first
    // update takes them from this batch; that batch is not evaluated).
    const bool can_predict = model_.has_stats() || !model_.standardizes();
    const bool predict_first = options_.predict && can_predict;
    const bool evaluate_batch = evaluator_ && can_predict;
    std::optional<model::Predictions> before_update;
    if (predict_first || (evaluate_batch && !fused)) before_update = predict_batch(*batch);
    for (Callback* cb : callbacks) cb->on_batch_begin(context, context.step);
    model::Predictions step_predictions;
    model::Predictions* step_out = evaluate_batch && !before_update ? &step_predictions : nullptr;
    Metrics metrics;
    bool stop_all = false;
    if (group != nullptr) {
      Trainer::CollectiveStep step =
          trainer_.collective_step(&*batch, false, stop_requested_.load() || context.stop_training, step_out);
      metrics = std::move(step.metrics);
      stop_all = step.stop;
      all_records += step.records;
    } else {
      metrics = trainer_.train_step(*batch, step_out);
      all_records += static_cast<int64_t>(batch->size);
    }
    ++steps;
    if (options_.predict && !predict_first) predict_batch(*batch);
    count_down_boost();
    remember(*batch);
    if (evaluate_batch) {
      const int64_t evaluated_before = evaluator_->count();
      std::vector<DriftEvent> drifts = evaluate(*batch, before_update ? *before_update : step_predictions);
      // The action takes effect from the next batch on.
      if (!drifts.empty()) {
        result.drifts += static_cast<int64_t>(drifts.size());
        for (DriftEvent& event : drifts) {
          event.run_record = context.records + (event.record - evaluated_before);
          log_warn("drift {} detected by {} at {}:{}:{} (record {}, statistic {:.4g}, error now {:.4g}); action {}",
                   event.drifts, event.detector, event.topic, event.partition, event.offset, event.record,
                   event.statistic, event.error, event.action);
          for (Callback* cb : callbacks) cb->on_drift(context, event);
        }
        respond_to_drift(drifts.back().drifts);
      }
    }
    ++result.batches;
    result.records += static_cast<int64_t>(batch->size);
    model_.set_metadata(kOnlineRecordsKey, std::to_string(records_before + all_records));
    ++context.step;
    ++context.epoch_step;
    context.records += static_cast<int64_t>(batch->size);
    context.epoch_records += static_cast<int64_t>(batch->size);
    Logs logs(metrics.begin(), metrics.end());
    logs["batch_size"] = static_cast<double>(batch->size);
    if (evaluator_ && evaluator_->count() > 0) {
      Metrics preq = evaluator_->metrics(/*with_auc=*/context.step % options_.auc_every == 0);
      logs.insert(preq.begin(), preq.end());
    }
    if (detector_) logs["drifts"] = static_cast<double>(detector_->detections());
    result.last_metrics = metrics;
    for (Callback* cb : callbacks) cb->on_batch_end(context, context.step, logs);
    if ((group == nullptr && options_.checkpoint_path.empty()) || ++since_checkpoint >= options_.checkpoint_every) {
      checkpoint(source, result);
      since_checkpoint = 0;
    }
    if (group != nullptr) {
      if (stop_all || limit_reached()) break;
      continue;  // a callback's stop goes to the other ranks with the next step
    }
    if (context.stop_training) break;
    if (limit_reached()) break;
  }
  // Distributed: rank 0 alone counts checkpoints; the decision must not
  // depend on it.
  const bool never_saved = group != nullptr ? steps == 0 : result.checkpoints == 0;
  if (since_checkpoint > 0 || (never_saved && !options_.checkpoint_path.empty())) {
    checkpoint(source, result);
  }
  if (evaluator_) result.prequential = evaluator_->metrics();
  Logs logs(result.last_metrics.begin(), result.last_metrics.end());
  logs.insert(result.prequential.begin(), result.prequential.end());
  if (detector_) logs["drifts"] = static_cast<double>(detector_->detections());
  for (Callback* cb : callbacks) cb->on_train_end(context, logs);
  log_info("online training: {} batches, {} records, {} checkpoints, {} drifts", result.batches, result.records,
           result.checkpoints, result.drifts);
  return result;
}

}  // namespace streamml::train
