// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include "model/model_impl.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/shuffle_source.h"
#include "streamml/data/validation_split.h"
#include "streamml/train/distributed.h"
#include "streamml/train/early_stopping.h"
#include "streamml/train/lr_schedule.h"
#include "train/distributed_impl.h"

namespace streamml::train {
namespace {

using model::TaskKind;
using model::detail::ModelImpl;

std::string first_line(const char* what) {
  std::string text(what);
  size_t nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

std::string location(const data::Batch& batch, size_t row) {
  return row < batch.meta.size() ? batch.meta[row].location() : fmt::format("row {}", row);
}

// Features are checked by ModelImpl::check_features; labels here.
void check_labels(const model::Task& task, const data::Batch& batch) {
  if (batch.num_labels != 1) {
    throw InputError(fmt::format(
        "training needs exactly one label per record, found {} at record {}", batch.num_labels,
        location(batch, 0)));
  }
  if (batch.labels.size() != batch.size) {
    throw InputError(fmt::format("malformed batch starting at record {}: {} labels for {} rows",
                                 location(batch, 0), batch.labels.size(), batch.size));
  }
  for (size_t r = 0; r < batch.size; ++r) {
    std::string why = task.check_label(batch.labels[r]);
    if (!why.empty()) throw InputError(fmt::format("{} at record {}", why, location(batch, r)));
  }
}

torch::Tensor label_tensor(const data::Batch& batch) {
  return torch::from_blob(const_cast<float*>(batch.labels.data()),
                          {static_cast<int64_t>(batch.size)}, torch::kFloat);
}

// Mean loss over the batch for the task.
torch::Tensor task_loss(const model::Task& task, const torch::Tensor& output,
                        const torch::Tensor& labels) {
  switch (task.kind) {
    case TaskKind::kBinary:
      return torch::binary_cross_entropy_with_logits(output.reshape({-1}), labels);
    case TaskKind::kMulticlass:
      return torch::nn::functional::cross_entropy(output, labels.to(torch::kLong));
    case TaskKind::kRegression: return torch::mse_loss(output.reshape({-1}), labels);
  }
  return torch::Tensor();
}

void set_hyperparameters(torch::optim::Optimizer& optimizer, const TrainOptions& options) {
  for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    torch::optim::OptimizerOptions& base = group.options();
    base.set_lr(options.learning_rate);
    switch (options.optimizer) {
      case OptimizerKind::kSgd:
        static_cast<torch::optim::SGDOptions&>(base)
            .weight_decay(options.weight_decay)
            .momentum(options.momentum);
        break;
      case OptimizerKind::kAdam:
        static_cast<torch::optim::AdamOptions&>(base).weight_decay(options.weight_decay);
        break;
      case OptimizerKind::kAdamW:
        static_cast<torch::optim::AdamWOptions&>(base).weight_decay(options.weight_decay);
        break;
    }
  }
}

// The model's optimizer for `options`, created on first use (restoring the
// state loaded from a model file when the kind matches).
torch::optim::Optimizer& ensure_optimizer(ModelImpl& impl, const TrainOptions& options) {
  const std::string kind = optimizer_name(options.optimizer);
  if (!impl.optimizer || impl.optimizer_kind != kind) {
    std::vector<torch::Tensor> params;
    for (const torch::Tensor& p : impl.parameters()) {
      if (p.requires_grad()) params.push_back(p);
    }
    if (params.empty()) throw ConfigError("the model has no trainable parameters");
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    switch (options.optimizer) {
      case OptimizerKind::kSgd:
        optimizer = std::make_unique<torch::optim::SGD>(
            params, torch::optim::SGDOptions(options.learning_rate));
        break;
      case OptimizerKind::kAdam:
        optimizer = std::make_unique<torch::optim::Adam>(
            params, torch::optim::AdamOptions(options.learning_rate));
        break;
      case OptimizerKind::kAdamW:
        optimizer = std::make_unique<torch::optim::AdamW>(
            params, torch::optim::AdamWOptions(options.learning_rate));
        break;
    }
    if (!impl.pending_optimizer_state.empty()) {
      if (impl.optimizer_kind == kind) {
        try {
          torch::serialize::InputArchive archive;
          archive.load_from(impl.pending_optimizer_state.data(),
                            impl.pending_optimizer_state.size());
          optimizer->load(archive);
          log_debug("restored {} optimizer state from the model file", kind);
        } catch (const std::exception& e) {
          log_warn("cannot restore the saved {} optimizer state, starting afresh: {}", kind,
                   first_line(e.what()));
        }
      } else {
        log_info("the model file holds {} optimizer state; starting a fresh {} optimizer",
                 impl.optimizer_kind, kind);
      }
    }
    impl.pending_optimizer_state.clear();
    impl.optimizer = std::move(optimizer);
    impl.optimizer_kind = kind;
  }
  set_hyperparameters(*impl.optimizer, options);
  return *impl.optimizer;
}

// A collective step's inputs and outcome (distributed.h).
struct StepSync {
  ProcessGroup* group = nullptr;
  int64_t step = 0;      // 1-based, for messages
  bool ended = false;    // this rank's source has ended
  bool stop = false;     // this rank asks every rank to stop
  int64_t records = 0;   // records of the step over all ranks
  bool any_stop = false;
  bool all_ended = false;
  bool diverged_elsewhere = false;  // another rank's loss was not finite
};

// Forward + backward + step on one checked batch; adds to `acc`. Returns
// false, with neither the step nor `acc` touched, when the loss is not a
// finite number (a diverged run): the weights are never updated with it.
// With `sync`: a collective step, where `batch` may be null (no records on
// this rank) and the gradients are summed over the ranks and divided by
// their total record count; false when any rank's loss is not finite.
bool step_on(ModelImpl& impl, const TrainOptions& options, const data::Batch* batch, MetricAccumulator& acc,
             double* batch_loss, model::Predictions* predictions = nullptr, StepSync* sync = nullptr) {
  torch::optim::Optimizer& optimizer = ensure_optimizer(impl, options);
  impl.set_training(true);
  optimizer.zero_grad();
  const bool has_rows = batch != nullptr && batch->size > 0;
  torch::Tensor output;
  double mean_loss = 0.0;
  bool finite = true;
  if (has_rows) {
    output = impl.forward(ModelImpl::input_tensor(*batch));
    torch::Tensor loss = task_loss(impl.task, output, label_tensor(*batch));
    mean_loss = loss.item<double>();
    *batch_loss = mean_loss;
    finite = std::isfinite(mean_loss);
    if (!finite && sync == nullptr) return false;
    // Collective: the gradient of the summed loss; divided by the records
    // of all ranks after the all-reduce.
    if (finite) (sync != nullptr ? loss * static_cast<double>(batch->size) : loss).backward();
  }
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) params.push_back(p);
  }
  if (sync != nullptr) {
    std::vector<torch::Tensor> grads;
    for (torch::Tensor& p : params) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    torch::Tensor control = torch::tensor({has_rows && finite ? static_cast<double>(batch->size) : 0.0,
                                           sync->stop ? 1.0 : 0.0, finite ? 0.0 : 1.0, sync->ended ? 1.0 : 0.0},
                                          torch::kDouble);
    detail::all_reduce_gradients(*sync->group, grads, control, sync->step);
    const double* c = control.data_ptr<double>();
    sync->records = std::llround(c[0]);
    sync->any_stop = c[1] > 0.5;
    sync->all_ended = std::llround(c[3]) >= sync->group->world_size();
    if (c[2] > 0.5) {
      sync->diverged_elsewhere = finite;
      return false;
    }
    if (sync->records == 0) return true;  // no rank had records: no step
    torch::NoGradGuard no_grad;
    for (torch::Tensor& g : grads) g.div_(static_cast<double>(sync->records));
  }
  if (options.grad_clip_norm > 0.0) torch::nn::utils::clip_grad_norm_(params, options.grad_clip_norm);
  optimizer.step();
  if (has_rows) {
    model::Predictions step_predictions = impl.to_predictions(output);
    acc.add(step_predictions, batch->labels.data(), mean_loss * static_cast<double>(batch->size));
    if (predictions != nullptr) *predictions = std::move(step_predictions);
  }
  return true;
}

bool finite_weights(ModelImpl& impl) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : impl.parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

void evaluate_on(ModelImpl& impl, const data::Batch& batch, MetricAccumulator& acc) {
  impl.check_features(batch);
  check_labels(impl.task, batch);
  torch::NoGradGuard no_grad;
  impl.set_training(false);
  torch::Tensor output = impl.forward(ModelImpl::input_tensor(batch));
  torch::Tensor loss = task_loss(impl.task, output, label_tensor(batch));
  acc.add(impl.to_predictions(output), batch.labels.data(),
          loss.item<double>() * static_cast<double>(batch.size));
}

void check_source(const model::Model& model, const data::BatchSource& source, const char* role) {
  if (source.num_features() != model.num_features()) {
    throw ConfigError(fmt::format("the {} source has {} features but the model expects {}", role,
                                  source.num_features(), model.num_features()));
  }
  if (source.num_labels() != 1) {
    throw ConfigError(fmt::format("the {} source has {} label columns; training needs exactly 1",
                                  role, source.num_labels()));
  }
}

// Counts a trained batch in `context` and passes its logs to on_batch_end.
void end_batch(TrainContext& context, const MetricAccumulator& acc, size_t batch_size, double batch_loss,
               const Callbacks& callbacks) {
  context.records += static_cast<int64_t>(batch_size);
  context.epoch_records += static_cast<int64_t>(batch_size);
  Logs logs = acc.metrics(/*with_auc=*/false);
  logs["batch_loss"] = batch_loss;
  logs["batch_size"] = static_cast<double>(batch_size);
  for (Callback* cb : callbacks) cb->on_batch_end(context, context.step, logs);
}

// True, with training stopped and the reason given, at options.max_steps.
bool reached_max_steps(const TrainOptions& options, TrainContext& context) {
  if (options.max_steps <= 0 || context.step < options.max_steps) return false;
  context.stop_training = true;
  context.stop_reason = fmt::format("reached max_steps {}", options.max_steps);
  return true;
}

}  // namespace

Trainer::Trainer(model::Model& model, TrainOptions options)
    : model_(model), options_(std::move(options)) {
  options_.validate();
}

Trainer::~Trainer() = default;

Metrics Trainer::train_step(const data::Batch& batch, model::Predictions* predictions) {
  if (group_ != nullptr) return collective_step(&batch, false, false, predictions).metrics;
  ModelImpl& impl = model::detail_impl(model_);
  impl.check_features(batch);
  check_labels(impl.task, batch);
  if (batch.size == 0) return {};
  if (impl.standardize && impl.stats.empty()) {
    model::FeatureStatsAccumulator stats(impl.features.num_features);
    stats.add(batch);
    impl.set_stats(stats.finish());
    log_info("feature statistics taken from the first batch ({} records)", batch.size);
  }
  MetricAccumulator acc(impl.task);
  double batch_loss = 0.0;
  if (!step_on(impl, options_, &batch, acc, &batch_loss, predictions)) {
    throw DivergenceError(fmt::format("training diverged: the loss of step {} (the batch starting at record {}) is "
                                      "{}; the weights were not updated with it (try a lower learning_rate)",
                                      steps_ + 1, location(batch, 0), batch_loss));
  }
  model_.advance_offsets(batch.meta);
  ++steps_;
  Metrics metrics = acc.metrics(/*with_auc=*/true);
  metrics["step"] = static_cast<double>(steps_);
  return metrics;
}

Trainer::CollectiveStep Trainer::collective_step(const data::Batch* batch, bool ended, bool stop,
                                                 model::Predictions* predictions) {
  if (group_ == nullptr) throw Error("collective_step needs a process group (set_process_group)");
  MetricAccumulator acc(model_.task());
  double batch_loss = 0.0;
  return collective(batch, ended, stop, predictions, acc, &batch_loss);
}

Trainer::CollectiveStep Trainer::collective(const data::Batch* batch, bool ended, bool stop,
                                            model::Predictions* predictions, MetricAccumulator& acc,
                                            double* batch_loss) {
  ModelImpl& impl = model::detail_impl(model_);
  if (batch != nullptr && batch->size == 0) batch = nullptr;
  if (batch != nullptr) {
    impl.check_features(*batch);
    check_labels(impl.task, *batch);
  }
  // Statistics from the first step's batches of every rank (every rank
  // lacks them at the same step: they all hold rank 0's model).
  if (impl.standardize && impl.stats.empty()) {
    model::FeatureStatsAccumulator stats(impl.features.num_features);
    if (batch != nullptr) stats.add(*batch);
    stats = model::FeatureStatsAccumulator::from_sums(
        impl.features.num_features, group_->all_reduce_sum(stats.sums(), "the feature statistics"));
    if (stats.count() > 0) {
      impl.set_stats(stats.finish());
      log_info("feature statistics taken from the first step ({} records over {} ranks)", stats.count(),
               group_->world_size());
    }
  }
  StepSync sync{.group = group_, .step = steps_ + 1, .ended = ended, .stop = stop};
  if (!step_on(impl, options_, batch, acc, batch_loss, predictions, &sync)) {
    throw DivergenceError(fmt::format(
        "training diverged: the loss of step {} is not finite on {}; the weights were not updated with it (try a "
        "lower learning_rate)",
        steps_ + 1,
        sync.diverged_elsewhere ? std::string("another rank")
                                : fmt::format("rank {} (the batch starting at record {}: {})", group_->rank(),
                                              location(*batch, 0), *batch_loss)));
  }
  CollectiveStep out;
  out.records = sync.records;
  out.stop = sync.any_stop;
  out.all_ended = sync.all_ended;
  if (sync.records == 0) return out;
  if (batch != nullptr) {
    model_.advance_offsets(batch->meta);
    out.metrics = acc.metrics(/*with_auc=*/true);
  }
  ++steps_;
  out.metrics["step"] = static_cast<double>(steps_);
  out.metrics["step_records"] = static_cast<double>(sync.records);
  return out;
}

void Trainer::reset_optimizer() {
  ModelImpl& impl = model::detail_impl(model_);
  impl.optimizer.reset();
  impl.pending_optimizer_state.clear();
}

void Trainer::set_learning_rate(double learning_rate) {
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) {
    throw ConfigError(fmt::format("learning_rate {} is invalid: use a number > 0", learning_rate));
  }
  options_.learning_rate = learning_rate;
}

void Trainer::reset_weights(uint64_t seed) {
  ModelImpl& impl = model::detail_impl(model_);
  if (impl.kind != model::ModelKind::kMlp) {
    throw ConfigError("the weights of a TorchScript model cannot be reset: its initialisation is not known");
  }
  torch::manual_seed(seed);
  impl.build_mlp();
  reset_optimizer();
}

Metrics Trainer::evaluate(data::BatchSource& source) {
  if (group_ == nullptr) return train::evaluate(model_, source);
  ModelImpl& impl = model::detail_impl(model_);
  MetricAccumulator acc(impl.task);
  while (std::optional<data::Batch> batch = source.next()) {
    if (batch->empty()) continue;
    evaluate_on(impl, *batch, acc);
  }
  MetricAccumulator total(impl.task);
  total.merge_sums(group_->all_reduce_sum(acc.sums(), "the evaluation metrics"));
  return total.metrics(/*with_auc=*/true);
}

bool Trainer::collective_fit_step(const data::Batch* batch, MetricAccumulator& acc, TrainContext& context,
                                  const Callbacks& callbacks, data::BatchSource& train) {
  if (batch != nullptr) {
    for (Callback* cb : callbacks) cb->on_batch_begin(context, context.step);
  }
  double batch_loss = 0.0;
  const bool want_stop = context.stop_training || stop_requested_.load();
  CollectiveStep step = collective(batch, batch == nullptr, want_stop, nullptr, acc, &batch_loss);
  if (step.records == 0) return false;  // every rank's share is exhausted
  ++context.step;
  ++context.epoch_step;
  if (batch != nullptr) {
    train.commit();
    end_batch(context, acc, batch->size, batch_loss, callbacks);
  }
  // Only stops every rank agrees on end the loop.
  if (reached_max_steps(options_, context)) return false;
  if (step.stop) {
    context.stop_training = true;
    if (context.stop_reason.empty()) context.stop_reason = stop_requested_.load() ? "stop requested" : "a rank stopped";
    return false;
  }
  return true;
}

History Trainer::fit(data::BatchSource& train_source, data::BatchSource* validation,
                     const Callbacks& user_callbacks) {
  ModelImpl& impl = model::detail_impl(model_);
  check_source(model_, train_source, "training");
  if (validation != nullptr) check_source(model_, *validation, "validation");
  stop_requested_.store(false);
  torch::manual_seed(options_.seed);

  // Validation split first (the last records, in source order), then the
  // shuffle of the training records only: no record moves between the two.
  data::BatchSource* training = &train_source;
  std::unique_ptr<data::ValidationSplit> split;
  if (options_.validation_split > 0.0) {
    if (validation != nullptr) {
      throw ConfigError("give a validation source or a validation split, not both");
    }
    split = std::make_unique<data::ValidationSplit>(train_source, options_.validation_split);
    training = &split->training();
    validation = &split->validation();
    log_info("validation split {}: {} training and {} validation records", options_.validation_split,
             split->training_records(), split->validation_records());
  }
  std::unique_ptr<data::ShuffleSource> shuffled;
  if (options_.shuffle_buffer > 0) {
    shuffled = std::make_unique<data::ShuffleSource>(*training, options_.shuffle_buffer, options_.seed);
    training = shuffled.get();
  }
  data::BatchSource& train = *training;

  // The learning-rate schedule watches the metric early stopping watches.
  const double base_rate = options_.learning_rate;
  std::string monitor = options_.monitor.empty() ? (validation != nullptr ? "val_loss" : "loss") : options_.monitor;
  if (options_.lr_schedule.kind == LrScheduleKind::kPlateau && monitor.rfind("val_", 0) == 0 &&
      validation == nullptr) {
    throw ConfigError(fmt::format("the plateau schedule monitors '{}' but there is no validation source", monitor));
  }
  LrScheduler scheduler(options_.lr_schedule, base_rate, options_.epochs, monitor, options_.min_delta);
  const bool scheduled = options_.lr_schedule.kind != LrScheduleKind::kNone;
  struct RestoreRate {
    TrainOptions& options;
    double rate;
    ~RestoreRate() { options.learning_rate = rate; }
  } restore_rate{options_, base_rate};

  Callbacks callbacks = user_callbacks;
  std::unique_ptr<EarlyStopping> early_stopping;
  if (options_.patience > 0) {
    early_stopping = std::make_unique<EarlyStopping>(EarlyStoppingOptions{
        options_.monitor, options_.patience, options_.min_delta, options_.restore_best});
    callbacks.push_back(early_stopping.get());
  }

  log_info("training {} model ({} parameters) for {} epochs: optimizer {} lr {} weight_decay {}{}{}",
           impl.task.to_string(), model_.num_parameters(), options_.epochs,
           optimizer_name(options_.optimizer), options_.learning_rate, options_.weight_decay,
           validation != nullptr ? ", with validation" : "",
           options_.patience > 0 ? fmt::format(", early stopping patience {}", options_.patience) : "");
  bool train_consumed = false;
  if (impl.standardize && impl.stats.empty() && options_.stats_mode == StatsMode::kFullPass) {
    model::FeatureStatsAccumulator stats(impl.features.num_features);
    while (std::optional<data::Batch> batch = train.next()) stats.add(*batch);
    if (group_ != nullptr) {
      stats = model::FeatureStatsAccumulator::from_sums(
          impl.features.num_features, group_->all_reduce_sum(stats.sums(), "the feature statistics"));
    }
    if (stats.count() == 0) throw ConfigError("the training source produced no records");
    impl.set_stats(stats.finish());
    log_info("feature statistics computed from {} training records", stats.count());
    train_consumed = true;
  }

  TrainContext context;
  context.model = &model_;
  context.options = &options_;
  context.has_validation = validation != nullptr;
  context.epochs = options_.epochs;
  context.records_hint = train.size_hint().value_or(0);
  History history;
  Logs last_logs;
  bool validation_consumed = false;
  const auto start = std::chrono::steady_clock::now();

  for (Callback* cb : callbacks) cb->on_train_begin(context);
  for (int epoch = 0; epoch < options_.epochs; ++epoch) {
    if (train_consumed) train.reset();
    train_consumed = true;
    context.epoch = epoch;
    context.epoch_step = 0;
    context.epoch_records = 0;
    if (scheduled) {
      const double rate = scheduler.rate(epoch);
      if (rate != options_.learning_rate) log_info("epoch {}: learning rate {}", epoch + 1, rate);
      options_.learning_rate = rate;
    }
    for (Callback* cb : callbacks) cb->on_epoch_begin(context, epoch);

    MetricAccumulator acc(impl.task);
    bool exhausted = false;
    // Distributed: every rank takes part in every step until all are
    // exhausted, and stops only when the ranks agree (collective_step).
    while (group_ != nullptr || !context.stop_training) {
      std::optional<data::Batch> batch;
      if (!exhausted) batch = train.next();
      exhausted = !batch;
      if (group_ != nullptr) {
        if (batch && batch->empty()) continue;
        if (!collective_fit_step(batch ? &*batch : nullptr, acc, context, callbacks, train)) break;
        continue;
      }
      if (!batch) break;
      if (batch->empty()) continue;
      impl.check_features(*batch);
      check_labels(impl.task, *batch);
      if (impl.standardize && impl.stats.empty()) {
        model::FeatureStatsAccumulator stats(impl.features.num_features);
        stats.add(*batch);
        impl.set_stats(stats.finish());
        log_info("feature statistics taken from the first batch ({} records)", batch->size);
      }
      for (Callback* cb : callbacks) cb->on_batch_begin(context, context.step);
      double batch_loss = 0.0;
      if (!step_on(impl, options_, &*batch, acc, &batch_loss)) {
        throw DivergenceError(fmt::format(
            "training diverged: the loss of epoch {} batch {} (starting at record {}) is {} (try a lower "
            "learning_rate)",
            epoch + 1, context.epoch_step + 1, location(*batch, 0), batch_loss));
      }
      model_.advance_offsets(batch->meta);
      train.commit();
      ++steps_;
      ++context.step;
      ++context.epoch_step;
      end_batch(context, acc, batch->size, batch_loss, callbacks);
      reached_max_steps(options_, context);
      if (stop_requested_.load()) {
        context.stop_training = true;
        context.stop_reason = "stop requested";
      }
    }
    MetricAccumulator total(impl.task);
    if (group_ != nullptr) {
      total.merge_sums(group_->all_reduce_sum(acc.sums(), fmt::format("the metrics of epoch {}", epoch + 1)));
    }
    const MetricAccumulator& epoch_acc = group_ != nullptr ? total : acc;
    if (epoch_acc.count() == 0) {
      if (epoch == 0 && (group_ != nullptr || context.records == 0)) {
        throw ConfigError("the training source produced no records");
      }
      log_warn("epoch {} produced no training records; stopping", epoch + 1);
      if (context.stop_reason.empty()) context.stop_reason = "training source exhausted";
      history.stopped_early = true;
      break;
    }
    if (epoch == 0) context.steps_per_epoch = context.epoch_step;
    // The last step of the epoch may have made the weights overflow while its
    // loss was still finite.
    if (!finite_weights(impl)) {
      throw DivergenceError(fmt::format("training diverged: the weights are not finite after epoch {} (try a lower "
                                        "learning_rate)",
                                        epoch + 1));
    }

    Logs logs = epoch_acc.metrics(/*with_auc=*/true);
    if (validation != nullptr) {
      if (validation_consumed) validation->reset();
      validation_consumed = true;
      for (const auto& [name, value] : evaluate(*validation)) logs["val_" + name] = value;
    }
    logs["elapsed_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (scheduled) {
      logs["lr"] = options_.learning_rate;
      scheduler.observe(logs);
    }
    history.epochs.push_back(logs);
    history.epochs_run = epoch + 1;
    last_logs = logs;
    for (Callback* cb : callbacks) cb->on_epoch_end(context, epoch, logs);
    if (group_ != nullptr) {
      // A callback of one rank may stop: every rank stops with it.
      const bool stop = group_->all_reduce_sum({context.stop_training ? 1.0 : 0.0},
                                               fmt::format("the stop vote after epoch {}", epoch + 1))[0] > 0.5;
      if (stop && !context.stop_training) {
        context.stop_training = true;
        context.stop_reason = "another rank stopped";
      }
    }
    if (context.stop_training) break;
  }
  history.steps = context.step;
  history.records = context.records;
  if (context.stop_training) {
    history.stopped_early = true;
    history.stop_reason = context.stop_reason;
  } else if (history.stopped_early) {
    history.stop_reason = context.stop_reason;
  }
  for (Callback* cb : callbacks) cb->on_train_end(context, last_logs);
  history.weights_epoch = history.epochs_run;
  if (early_stopping && early_stopping->best_epoch() >= 0) {
    history.best_epoch = early_stopping->best_epoch() + 1;
    if (options_.restore_best) history.weights_epoch = history.best_epoch;
  }
  return history;
}

bool has_finite_weights(model::Model& model) { return finite_weights(model::detail_impl(model)); }

History fit(model::Model& model, data::BatchSource& train, const TrainOptions& options,
            data::BatchSource* validation, const Callbacks& callbacks) {
  Trainer trainer(model, options);
  return trainer.fit(train, validation, callbacks);
}

Metrics evaluate(model::Model& model, data::BatchSource& source) {
  ModelImpl& impl = model::detail_impl(model);
  MetricAccumulator acc(impl.task);
  while (std::optional<data::Batch> batch = source.next()) {
    if (batch->empty()) continue;
    evaluate_on(impl, *batch, acc);
  }
  return acc.metrics(/*with_auc=*/true);
}

Evaluation evaluate_report(model::Model& model, data::BatchSource& source) {
  ModelImpl& impl = model::detail_impl(model);
  MetricAccumulator acc(impl.task);
  while (std::optional<data::Batch> batch = source.next()) {
    if (batch->empty()) continue;
    evaluate_on(impl, *batch, acc);
  }
  Evaluation out;
  out.metrics = acc.metrics(/*with_auc=*/true);
  if (!out.metrics.empty()) {
    for (const auto& [name, value] : acc.classification_metrics()) out.metrics[name] = value;
    out.confusion = acc.confusion();
  }
  return out;
}

}  // namespace streamml::train
