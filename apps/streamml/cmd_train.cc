// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml train: fit a model on Kafka ranges or files (epochs, validation,
// early stopping, metrics log/topic, SVG plot), or learn online from a
// consumer group (--online -G GROUP) with checkpoints that resume exactly.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>

#include "cli_common.h"
#include "command.h"
#include "ml_common.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/consumer.h"
#include "streamml/model/model.h"
#include "streamml/model/model_file.h"
#include "streamml/model/record_check.h"
#include "streamml/train/drift.h"
#include "streamml/train/drift_action.h"
#include "streamml/train/kafka_callbacks.h"
#include "streamml/train/lr_schedule.h"
#include "streamml/train/metrics_log.h"
#include "streamml/train/model_checkpoint.h"
#include "streamml/train/online_trainer.h"
#include "streamml/train/progress_bar.h"
#include "streamml/train/svg_plot.h"
#include "streamml/train/trainer.h"
#include "train_distributed.h"

namespace streamml::cli {
namespace {

struct TrainCommandOptions {
  KafkaOptions kafka;
  InputOptions input;
  std::string decode;
  std::string model = "mlp:64,32";
  std::string task;
  int epochs = 10;
  std::string validation;
  std::string save;
  bool resume = false;
  bool online = false;
  std::string group;
  int64_t checkpoint_every = 100;
  int64_t batch_wait_ms = 100;
  int64_t stream_timeout_ms = -1;
  std::string on_data_loss = "report";  // --online: records lost to retention
  int64_t max_batches = 0;
  std::string predictions_topic;
  std::string metrics_topic;
  std::string metrics_log;
  std::string plot;
  std::string optimizer = "adam";
  double lr = 1e-3;
  double weight_decay = 0.0;
  uint64_t seed = 42;
  int patience = 0;
  bool restore_best = false;
  double validation_split = 0.0;
  size_t shuffle_buffer = 0;
  std::string monitor;
  double min_delta = 0.0;
  std::string save_best;
  std::string lr_schedule;
  bool quiet = false;
  bool json = false;
  std::string run_id;
  // --online: prequential evaluation and drift detection.
  bool no_evaluation = false;
  int64_t window = 1000;
  double fading = 0.999;
  std::string drift_detector;  // "": adwin, or none with --no-evaluation
  double drift_delta = -1;     // < 0: the detector's default
  double drift_threshold = -1;
  std::string on_drift = "log";
  std::string drift_topic;
  int64_t true_drift = -1;
  DistributedFlags dist;  // many processes (train_distributed.h)
};

// A run id for the metrics outputs: UTC time and a random suffix.
std::string new_run_id() {
  std::random_device random;
  return fmt::format("{:%Y%m%dT%H%M%SZ}-{:08x}", fmt::gmtime(std::time(nullptr)), random());
}

std::atomic<train::OnlineTrainer*> g_online{nullptr};
std::atomic<train::Trainer*> g_trainer{nullptr};
std::atomic<data::KafkaDataset*> g_stream{nullptr};
std::atomic<bool> g_stop_signalled{false};

// Online: stop after the current batch, and make a dataset waiting for
// records (caught up, idle) return at once.
void forward_stop() {
  if (train::OnlineTrainer* t = g_online.load()) t->request_stop();
  if (train::Trainer* t = g_trainer.load()) t->request_stop();
  if (data::KafkaDataset* d = g_stream.load()) d->interrupt();
}

void on_stop_signal(int) {
  g_stop_signalled.store(true);
  forward_stop();
}

// Registers what a stop signal stops; a signal that came before (while the
// dataset or the model were set up) is forwarded now.
void register_stoppable(train::OnlineTrainer* online, data::KafkaDataset* stream) {
  g_online.store(online);
  g_stream.store(stream);
  if (g_stop_signalled.load()) forward_stop();
}

// Seconds between the progress lines of --online on stderr.
constexpr std::chrono::seconds kOnlineProgressInterval{5};

// train --online's progress line on stderr: after the first batch, then
// every kOnlineProgressInterval (records, batches, the last checkpoint, the
// lag: records in the partitions read so far that are not trained yet, and
// the windowed prequential metric and drift count when measured).
class OnlineProgress final : public train::Callback {
 public:
  // `config`: the cluster's, for a consumer outside the group that asks for
  // watermarks.
  OnlineProgress(const data::KafkaDataset& dataset, kafka::Config config, int64_t checkpoint_every, bool checkpoints)
      : dataset_(dataset),
        watermarks_(std::move(config)),
        checkpoint_every_(checkpoint_every),
        checkpoints_(checkpoints) {}

  void on_batch_end(train::TrainContext& context, int64_t step, const train::Logs& logs) override {
    const auto now = std::chrono::steady_clock::now();
    if (printed_ && now - last_ < kOnlineProgressInterval) return;
    printed_ = true;
    last_ = now;
    // The checkpoint of batch k * checkpoint_every is saved right after this
    // callback's turn at that batch.
    const int64_t checkpoint_batch = (step - 1) / checkpoint_every_ * checkpoint_every_;
    const std::string checkpoint =
        !checkpoints_ || checkpoint_batch == 0 ? "none" : std::to_string(checkpoint_batch);
    auto loss = logs.find("loss");
    std::fprintf(stderr, "train --online: records=%lld batches=%lld checkpoint_batch=%s lag=%s loss=%s%s\n",
                 static_cast<long long>(context.records), static_cast<long long>(step), checkpoint.c_str(),
                 lag().c_str(), loss == logs.end() ? "-" : fmt::format("{:.4g}", loss->second).c_str(),
                 prequential(logs).c_str());
  }

 private:
  // " preq_accuracy=0.953 drifts=1": the windowed prequential metric of the
  // task and the drift count, when they are measured.
  static std::string prequential(const train::Logs& logs) {
    std::string out;
    for (const char* name : {"preq_accuracy", "preq_rmse", "drifts"}) {
      auto it = logs.find(name);
      if (it != logs.end()) out += fmt::format(" {}={:.4g}", name, it->second);
    }
    return out;
  }

  // Records after the trained ones in the partitions read so far ("?" when
  // the cluster does not answer).
  std::string lag() {
    try {
      int64_t lag = 0;
      for (const auto& p : dataset_.positions()) {
        const kafka::Watermarks w = watermarks_.query_watermarks(p.topic, p.partition, kafka::milliseconds(2000));
        lag += std::max<int64_t>(0, w.high - p.offset);
      }
      return std::to_string(lag);
    } catch (const std::exception& e) {
      log_debug("train --online: cannot read the watermarks for the lag: {}", e.what());
      return "?";
    }
  }

  const data::KafkaDataset& dataset_;
  kafka::Consumer watermarks_;
  int64_t checkpoint_every_;
  bool checkpoints_;
  bool printed_ = false;
  std::chrono::steady_clock::time_point last_;
};

// First signal: stop after the current batch and save; a second one ends the
// process at once (training then resumes from the last checkpoint).
void install_train_signals() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// An optional output of training (--metrics-log, --plot, --metrics-topic):
// when it fails, training goes on and the model is still saved; the failure
// is logged at once and reported after the save (exit 1).
class OptionalOutput final : public train::Callback {
 public:
  OptionalOutput(std::string flag, std::unique_ptr<train::Callback> inner)
      : flag_(std::move(flag)), inner_(std::move(inner)) {}

  void on_train_begin(train::TrainContext& c) override { guard([&] { inner_->on_train_begin(c); }); }
  void on_train_end(train::TrainContext& c, const train::Logs& l) override {
    guard([&] { inner_->on_train_end(c, l); });
  }
  void on_epoch_begin(train::TrainContext& c, int e) override { guard([&] { inner_->on_epoch_begin(c, e); }); }
  void on_epoch_end(train::TrainContext& c, int e, const train::Logs& l) override {
    guard([&] { inner_->on_epoch_end(c, e, l); });
  }
  void on_batch_begin(train::TrainContext& c, int64_t s) override { guard([&] { inner_->on_batch_begin(c, s); }); }
  void on_batch_end(train::TrainContext& c, int64_t s, const train::Logs& l) override {
    guard([&] { inner_->on_batch_end(c, s, l); });
  }
  void on_drift(train::TrainContext& c, const train::DriftEvent& e) override {
    guard([&] { inner_->on_drift(c, e); });
  }

  // "" while it works; else the first error.
  const std::string& failure() const { return failure_; }
  const std::string& flag() const { return flag_; }

 private:
  template <typename F>
  void guard(F&& call) {
    if (!failure_.empty()) return;
    try {
      call();
    } catch (const std::exception& e) {
      failure_ = e.what();
      log_error("{} failed, training goes on and the model will be saved: {}", flag_, failure_);
    }
  }

  std::string flag_;
  std::unique_ptr<train::Callback> inner_;
  std::string failure_;
};

// After the model was saved: the failed optional outputs, as one error.
int report_outputs(const std::vector<OptionalOutput*>& outputs) {
  int code = kExitOk;
  for (const OptionalOutput* out : outputs) {
    if (out->failure().empty()) continue;
    std::fprintf(stderr, "streamml: error: %s: %s\n", out->flag().c_str(), out->failure().c_str());
    code = kExitFailure;
  }
  return code;
}

// Every output file is checked before training: a bad path must not cost a
// trained model.
void check_output_paths(const TrainCommandOptions& o) {
  if (!o.save.empty()) check_output_path("--save", o.save);
  if (!o.metrics_log.empty()) check_output_path("--metrics-log", o.metrics_log);
  if (!o.plot.empty()) check_output_path("--plot", o.plot);
  if (!o.save_best.empty()) check_output_path("--save-best", o.save_best);
}

// The model to train: an existing model file (--resume / --model FILE), a
// TorchScript module, or a new built-in network sized by the source.
model::Model make_model(const TrainCommandOptions& o, const std::string& decoder_spec, size_t num_features,
                        const std::vector<std::string>& feature_names) {
  const bool resume_from_save = !o.save.empty() && std::filesystem::exists(o.save) && (o.resume || o.online);
  if (o.resume && !resume_from_save && !model::is_model_file(o.model)) {
    throw ConfigError("--resume needs an existing --save model file ('" + o.save + "' does not exist)");
  }
  if (resume_from_save || model::is_model_file(o.model)) {
    const std::string& path = resume_from_save ? o.save : o.model;
    model::Model model = model::Model::load(path);
    log_info("continuing training of {} ({}, {} features, trained up to {} partition offset(s))", path,
             model.task().to_string(), model.num_features(), model.offsets().size());
    if (!o.task.empty() && model::parse_task(o.task) != model.task()) {
      throw ConfigError("--task " + o.task + " does not match the model's task " + model.task().to_string());
    }
    return model;
  }
  if (o.task.empty()) throw ConfigError("--task is required for a new model (binary, multiclass:K or regression)");
  model::ModelConfig config;
  config.task = model::parse_task(o.task);
  config.features.num_features = num_features;
  config.features.feature_names = feature_names;
  config.features.decoder_spec = decoder_spec;
  config.seed = o.seed;
  if (std::filesystem::exists(o.model)) return model::Model::from_torchscript(o.model, config);
  config.spec = model::parse_model_spec(o.model);
  return model::Model::create(config);
}

// The task of the model make_model() trains, known before the records are
// opened: their check (non-finite features, labels outside the task) needs it.
model::Task task_of(const TrainCommandOptions& o) {
  const bool resume_from_save = !o.save.empty() && std::filesystem::exists(o.save) && (o.resume || o.online);
  if (o.resume && !resume_from_save && !model::is_model_file(o.model)) {
    throw ConfigError("--resume needs an existing --save model file ('" + o.save + "' does not exist)");
  }
  if (resume_from_save || model::is_model_file(o.model)) return model::Model::load(resume_from_save ? o.save : o.model).task();
  if (o.task.empty()) throw ConfigError("--task is required for a new model (binary, multiclass:K or regression)");
  return model::parse_task(o.task);
}

train::TrainOptions make_train_options(const TrainCommandOptions& o) {
  train::TrainOptions options;
  options.optimizer = train::parse_optimizer(o.optimizer);
  options.learning_rate = o.lr;
  options.weight_decay = o.weight_decay;
  options.epochs = o.epochs;
  options.seed = o.seed;
  options.patience = o.patience;
  options.restore_best = o.restore_best;
  options.monitor = o.monitor;
  options.min_delta = o.min_delta;
  options.validation_split = o.validation_split;
  options.shuffle_buffer = o.shuffle_buffer;
  options.lr_schedule = train::parse_lr_schedule(o.lr_schedule);
  if (o.validation_split > 0 && !o.validation.empty()) {
    throw ConfigError("give --validation or --validation-split, not both");
  }
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0)) {
    throw ConfigError(fmt::format("--validation-split {} is invalid: use a fraction between 0 and 1, e.g. 0.2",
                                  o.validation_split));
  }
  if (!(o.min_delta >= 0.0)) throw ConfigError(fmt::format("--min-delta {} is invalid: use a value >= 0", o.min_delta));
  if (o.online) {
    const std::pair<const char*, bool> epoch_only[] = {{"--validation-split", o.validation_split > 0},
                                                       {"--shuffle-buffer", o.shuffle_buffer > 0},
                                                       {"--save-best", !o.save_best.empty()},
                                                       {"--lr-schedule", !o.lr_schedule.empty()}};
    for (const auto& [flag, given] : epoch_only) {
      if (given) throw ConfigError(std::string(flag) + " is for epoch training, not --online");
    }
  }
  options.stats_mode = o.online ? train::StatsMode::kFirstBatch : train::StatsMode::kFullPass;
  if (options.restore_best && options.patience == 0) throw ConfigError("--restore-best needs --patience N");
  options.validate();
  return options;
}

// The decoder spec: --decode, else the one stored in the model file.
std::string decoder_of(const TrainCommandOptions& o) {
  if (!o.decode.empty()) return o.decode;
  for (const std::string& path : {o.online || o.resume ? o.save : std::string(), o.model}) {
    if (!path.empty() && model::is_model_file(path)) return model::Model::load(path).features().decoder_spec;
  }
  throw ConfigError("--decode is required (e.g. csv:names=a+b+y,label=y; see docs/decoders.md)");
}

int run_online(TrainCommandOptions& o) {
  if (o.group.empty()) throw ConfigError("--online needs a consumer group: -G GROUP");
  if (o.input.topics.empty() || !o.input.files.empty()) throw ConfigError("--online reads --topic names, not files");
  if (o.kafka.brokers.empty()) throw ConfigError("--online needs -b BROKERS");
  if (!o.validation.empty()) throw ConfigError("--validation is for epoch training, not --online");
  // Offsets are committed only with a checkpoint: without one, the group
  // would move past records that end up in no saved model.
  if (o.save.empty()) throw ConfigError("--online needs --save FILE: offsets are committed only with a checkpoint");
  const std::string decoder_spec = decoder_of(o);
  check_output_paths(o);
  // Stop signals are caught from here on (see register_stoppable).
  install_train_signals();
  data::KafkaDatasetOptions options;
  const kafka::Config cluster = o.kafka.make_config();
  options.config = cluster;
  options.config.set_default("auto.offset.reset", "earliest");
  options.group = o.group;
  options.topics = o.input.topics;
  options.decoder = decoder_spec;
  options.batch_size = o.input.batch_size;
  options.batch_wait = std::chrono::milliseconds(o.batch_wait_ms);
  options.stream_timeout = std::chrono::milliseconds(o.stream_timeout_ms);
  options.bad_records = data::parse_bad_record_policy(o.input.bad_records);
  options.on_data_loss = parse_data_loss_policy(o.on_data_loss);
  options.check = model::usable_record_check(task_of(o));
  std::unique_ptr<DistributedRun> dist = DistributedRun::join(o.dist);
  data::KafkaDataset dataset(options);
  model::Model model = make_model(o, decoder_spec, dataset.num_features(), dataset.feature_names());
  if (dist) dist->share_model(model);
  train::OnlineTrainer::resume(model, dataset);

  train::Trainer trainer(model, make_train_options(o));
  if (dist) trainer.set_process_group(&dist->group());
  train::OnlineOptions online;
  online.checkpoint_path = o.save;
  online.checkpoint_every = o.checkpoint_every;
  online.max_batches = o.max_batches;
  online.predict = !o.predictions_topic.empty();
  online.evaluate = !o.no_evaluation;
  online.prequential.window = o.window;
  online.prequential.fading = o.fading;
  online.drift.kind = o.drift_detector.empty()
                          ? (o.no_evaluation ? train::DriftDetectorKind::kNone : train::DriftDetectorKind::kAdwin)
                          : train::parse_drift_detector(o.drift_detector);
  if (online.drift.kind != train::DriftDetectorKind::kNone && o.no_evaluation) {
    throw ConfigError(
        "--drift-detector watches the prequential errors: use --drift-detector none with --no-evaluation");
  }
  if (o.drift_delta >= 0) {
    (online.drift.kind == train::DriftDetectorKind::kPageHinkley ? online.drift.ph_delta : online.drift.delta) =
        o.drift_delta;
  }
  if (o.drift_threshold >= 0) online.drift.ph_lambda = o.drift_threshold;
  online.on_drift = train::parse_drift_action(o.on_drift);
  online.auc_every = o.checkpoint_every;
  online.seed = o.seed;
  try {
    online.prequential.validate();
    online.drift.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--window/--fading/--drift-delta/--drift-threshold: ") + e.what());
  }
  train::OnlineTrainer online_trainer(model, trainer, online);

  std::vector<std::unique_ptr<train::Callback>> owned;
  std::vector<OptionalOutput*> outputs;
  auto add_output = [&](std::string flag, std::unique_ptr<train::Callback> callback) {
    auto output = std::make_unique<OptionalOutput>(std::move(flag), std::move(callback));
    outputs.push_back(output.get());
    owned.push_back(std::move(output));
  };
  if (!o.metrics_log.empty()) {
    add_output("--metrics-log", std::make_unique<train::MetricsLog>(
                                    train::MetricsLogOptions{o.metrics_log, o.checkpoint_every, o.run_id}));
  }
  if (!o.metrics_topic.empty()) {
    train::KafkaMetricsOptions m;
    m.config = options.config;
    m.topic = o.metrics_topic;
    m.key = o.run_id;
    m.every_steps = o.checkpoint_every;
    add_output("--metrics-topic", std::make_unique<train::KafkaMetricsCallback>(std::move(m)));
  }
  if (!o.drift_topic.empty()) {
    if (online.drift.kind == train::DriftDetectorKind::kNone) {
      throw ConfigError("--drift-topic needs a --drift-detector");
    }
    train::KafkaDriftOptions d;
    d.config = options.config;
    d.topic = o.drift_topic;
    d.key = o.run_id;
    add_output("--drift-topic", std::make_unique<train::KafkaDriftCallback>(std::move(d)));
  }
  if (!o.plot.empty()) {
    if (o.no_evaluation) throw ConfigError("--plot draws the prequential metrics of --online: drop --no-evaluation");
    add_output("--plot", std::make_unique<train::OnlinePlot>(o.plot, o.true_drift));
  }
  if (!o.predictions_topic.empty()) {
    train::KafkaPredictionsOptions p;
    p.config = options.config;
    p.topic = o.predictions_topic;
    owned.push_back(std::make_unique<train::KafkaPredictionsCallback>(std::move(p)));
  }
  if (!o.quiet) {
    owned.push_back(std::make_unique<OnlineProgress>(dataset, cluster, o.checkpoint_every,
                                                     !o.save.empty()));
  }
  train::Callbacks callbacks;
  for (auto& cb : owned) callbacks.push_back(cb.get());

  register_stoppable(&online_trainer, &dataset);
  train::OnlineResult result = online_trainer.run(dataset, callbacks);
  register_stoppable(nullptr, nullptr);
  train::Metrics summary = result.last_metrics;
  summary["batches"] = static_cast<double>(result.batches);
  summary["records"] = static_cast<double>(result.records);
  summary["checkpoints"] = static_cast<double>(result.checkpoints);
  summary.insert(result.prequential.begin(), result.prequential.end());
  if (online.drift.kind != train::DriftDetectorKind::kNone) summary["drifts"] = static_cast<double>(result.drifts);
  if (dataset.lost_records() > 0) summary["lost_records"] = static_cast<double>(dataset.lost_records());
  if (dist) dist->add_summary(summary, model);
  std::printf("%s\n", format_metrics(summary, o.json).c_str());
  return report_outputs(outputs);
}

int run_epochs(TrainCommandOptions& o) {
  if (!o.group.empty()) throw ConfigError("-G is for --online training; epoch training reads --topic ranges");
  check_output_paths(o);
  const std::string decoder_spec = decoder_of(o);
  const kafka::Config config = connect(o.kafka);
  const data::RecordCheck check = model::usable_record_check(task_of(o));
  std::unique_ptr<DistributedRun> dist = DistributedRun::join(o.dist);
  if (dist) dist->take_share(o.input, o.validation, config);
  std::unique_ptr<data::BatchSource> source = open_source(o.input, decoder_spec, config, check);
  std::unique_ptr<data::BatchSource> validation;
  if (!o.validation.empty()) {
    validation = dist ? dist->open_validation(o.validation, decoder_spec, o.input, config, check)
                      : open_validation(o.validation, decoder_spec, o.input, config, check);
  }
  model::Model model = make_model(o, decoder_spec, source->num_features(), source->feature_names());
  if (dist) dist->share_model(model);
  train::Trainer trainer(model, make_train_options(o));
  if (dist) trainer.set_process_group(&dist->group());

  std::vector<std::unique_ptr<train::Callback>> owned;
  std::vector<OptionalOutput*> outputs;
  auto add_output = [&](std::string flag, std::unique_ptr<train::Callback> callback) {
    auto output = std::make_unique<OptionalOutput>(std::move(flag), std::move(callback));
    outputs.push_back(output.get());
    owned.push_back(std::move(output));
  };
  if (!o.quiet) owned.push_back(std::make_unique<train::ProgressBar>());
  train::ModelCheckpoint* best_checkpoint = nullptr;
  if (!o.save_best.empty() && (!dist || dist->writes_model())) {  // rank 0 writes, as for --save
    auto checkpoint = std::make_unique<train::ModelCheckpoint>(train::CheckpointOptions{
        .path = o.save_best, .save_best_only = true, .monitor = o.monitor, .min_delta = o.min_delta});
    best_checkpoint = checkpoint.get();
    owned.push_back(std::move(checkpoint));
  }
  if (!o.metrics_log.empty()) {
    add_output("--metrics-log",
               std::make_unique<train::MetricsLog>(train::MetricsLogOptions{o.metrics_log, 0, o.run_id}));
  }
  if (!o.plot.empty()) add_output("--plot", std::make_unique<train::SvgPlot>(o.plot, /*metric=*/"", o.monitor));
  if (!o.metrics_topic.empty()) {
    train::KafkaMetricsOptions m;
    if (!config.contains("bootstrap.servers")) throw ConfigError("--metrics-topic needs -b BROKERS");
    m.config = config;
    m.topic = o.metrics_topic;
    m.key = o.run_id;
    add_output("--metrics-topic", std::make_unique<train::KafkaMetricsCallback>(std::move(m)));
  }
  train::Callbacks callbacks;
  for (auto& cb : owned) callbacks.push_back(cb.get());

  // A signal stops after the current batch, also while the dataset waits
  // for records (--wait): the dataset is interrupted too.
  g_trainer.store(&trainer);
  register_stoppable(nullptr, dynamic_cast<data::KafkaDataset*>(source.get()));
  install_train_signals();
  train::History history;
  try {
    history = trainer.fit(*source, validation.get(), callbacks);
  } catch (const Error&) {
    // An interrupted dataset ends like an empty one: say what really happened.
    if (!g_stop_signalled.load()) throw;
    throw Error("stopped by a signal before the first epoch was trained; no model was saved");
  }
  register_stoppable(nullptr, nullptr);
  g_trainer.store(nullptr);
  if (!o.save.empty() && (!dist || dist->writes_model())) {
    model.save(o.save);
    log_info("model of epoch {} saved to {}", history.weights_epoch, o.save);
  }
  // The metrics of the epoch whose weights were saved (--restore-best: the
  // best one), and which epoch that is.
  train::Metrics summary;
  if (history.weights_epoch >= 1 && history.weights_epoch <= static_cast<int>(history.epochs.size())) {
    const train::Logs& saved = history.epochs[history.weights_epoch - 1];
    summary.insert(saved.begin(), saved.end());
  }
  summary["epochs"] = history.epochs_run;
  summary["saved_epoch"] = history.weights_epoch;
  if (history.best_epoch > 0) summary["best_epoch"] = history.best_epoch;
  if (best_checkpoint != nullptr && best_checkpoint->best_epoch() > 0) {
    summary["best_epoch"] = best_checkpoint->best_epoch();
    log_info("model of the best epoch {} saved to {}", best_checkpoint->best_epoch(), o.save_best);
  }
  if (dist) dist->add_summary(summary, model);
  std::printf("%s\n", format_metrics(summary, o.json).c_str());
  return report_outputs(outputs);
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<TrainCommandOptions>();
  o->kafka.add_to(sub, /*brokers_required=*/false);
  o->input.add_to(sub);
  o->input.batch_size = 64;
  sub.add_option("--batch-size", o->input.batch_size, "Records per mini-batch")->capture_default_str();
  sub.add_option("--decode", o->decode, "Decoder spec, e.g. csv:names=a+b+y,label=y (docs/decoders.md)");
  sub.add_option("--model", o->model, "Architecture (mlp:64,32;activation=relu;dropout=0 | linear), a TorchScript "
                                      "file, or a streamml model file to train further")
      ->capture_default_str();
  sub.add_option("--task", o->task, "binary, multiclass:K or regression (new models)");
  sub.add_option("--epochs", o->epochs, "Passes over the training records")->capture_default_str();
  sub.add_option("--validation", o->validation, "Validation records: a file, or a Kafka range spec");
  sub.add_option("--save", o->save, "Write the trained model file here (online: the checkpoint; required)");
  sub.add_flag("--resume", o->resume, "Continue training the --save model file");
  sub.add_flag("--online", o->online, "Learn online from a consumer group (-G): update per mini-batch");
  sub.add_option("-G,--group", o->group, "Consumer group of --online");
  sub.add_option("--checkpoint-every", o->checkpoint_every, "Online: batches between checkpoints (save, then commit)")
      ->capture_default_str();
  sub.add_option("--batch-wait", o->batch_wait_ms, "Online: ms to wait for a mini-batch to fill")->capture_default_str();
  sub.add_option("--stream-timeout", o->stream_timeout_ms, "Online: stop after this many ms without records (-1: never)")
      ->capture_default_str()
      ->check(stream_timeout_check());
  add_on_data_loss_option(sub, o->on_data_loss);
  sub.add_option("--max-batches", o->max_batches, "Online: stop after this many batches (0: no limit)");
  sub.add_option("--predictions-topic", o->predictions_topic, "Online: write each batch's predictions here "
                                                              "(before the update)");
  sub.add_option("--metrics-topic", o->metrics_topic, "Write metrics as JSON to this Kafka topic");
  sub.add_option("--metrics-log", o->metrics_log, "Write metrics as JSON lines to this file");
  sub.add_option("--plot", o->plot, "Write training/validation curves to this SVG file (online: prequential "
                                    "accuracy or RMSE over records, drifts marked)");
  sub.add_option("--optimizer", o->optimizer, "sgd, adam or adamw")->capture_default_str();
  sub.add_option("--lr", o->lr, "Learning rate")->capture_default_str();
  sub.add_option("--weight-decay", o->weight_decay, "Weight decay")->capture_default_str();
  sub.add_option("--seed", o->seed, "Random seed (weights, dropout)")->capture_default_str();
  sub.add_option("--patience", o->patience, "Early stopping: epochs without improvement (0: off)");
  sub.add_flag("--restore-best", o->restore_best, "With --patience: save the weights of the best epoch, not the last");
  sub.add_option("--validation-split", o->validation_split,
                 "Validate on the last fraction F of the training records (Keras' validation_split), e.g. 0.2");
  sub.add_option("--shuffle-buffer", o->shuffle_buffer,
                 "Shuffle training records through a buffer of N records, a new order each epoch (0: source order)");
  sub.add_option("--monitor", o->monitor, "Epoch metric of --patience, --save-best and plateau: loss, accuracy, auc, "
                                          "rmse, ... or val_* (default: val_loss with validation, else loss)");
  sub.add_option("--min-delta", o->min_delta, "Smallest change of --monitor that counts as an improvement")
      ->capture_default_str();
  sub.add_option("--save-best", o->save_best, "Save the model here at each epoch that improves --monitor "
                                              "(Keras' ModelCheckpoint with save_best_only)");
  sub.add_option("--lr-schedule", o->lr_schedule, "Learning-rate schedule: step:E:G (x G every E epochs), cosine, "
                                                  "or plateau:P:F (x F after P epochs without improvement)");
  sub.add_flag("-q,--quiet", o->quiet, "No progress bar (online: no progress line)");
  sub.add_flag("--json", o->json, "Print the final metrics as JSON");
  sub.add_flag("--no-evaluation", o->no_evaluation, "Online: no prequential (test-then-train) evaluation");
  sub.add_option("--window", o->window, "Online: records in the prequential metrics' sliding window")
      ->capture_default_str();
  sub.add_option("--fading", o->fading, "Online: fading factor of the preq_faded_* metrics, in (0, 1]")
      ->capture_default_str();
  sub.add_option("--drift-detector", o->drift_detector, "Online: adwin (default; none with --no-evaluation), "
                                                        "page-hinkley, ddm or none, on the prequential error stream");
  sub.add_option("--drift-delta", o->drift_delta, "Online: ADWIN's confidence delta (default 0.002), or "
                                                  "Page-Hinkley's tolerated change (default 0.05)");
  sub.add_option("--drift-threshold", o->drift_threshold, "Online: Page-Hinkley's alarm threshold lambda "
                                                          "(default 50)");
  sub.add_option("--on-drift", o->on_drift, "Online: log, reset-optimizer, boost-lr=F:N, reset-model or "
                                            "retrain-window=N")
      ->capture_default_str();
  sub.add_option("--drift-topic", o->drift_topic, "Online: write each drift as a JSON event to this topic");
  sub.add_option("--true-drift", o->true_drift, "Online --plot: mark this record number as the known drift");
  add_distributed_options(sub, o->dist);
  sub.add_option("--run-id", o->run_id, "Id of this run in --metrics-log and the key of its --metrics-topic records "
                                        "(default: time and a random suffix)");
  set_examples(sub, {"streamml train --file train.csv --decode csv:names=a+b+y,label=y --task binary --save model.smlm",
                     "streamml train -b localhost:9092 --topic events:0:0:8999 --decode csv:names=a+b+y,label=y "
                     "--task binary --validation-split 0.2 --shuffle-buffer 10000 --lr-schedule cosine --save-best "
                     "best.smlm",
                     "streamml train -b localhost:9092 --online -G learner --topic events --save model.smlm "
                     "--decode csv:names=a+b+y,label=y --task binary"});
  return [o] {
    if (o->run_id.empty()) o->run_id = new_run_id();
    return o->online ? run_online(*o) : run_epochs(*o);
  };
}

}  // namespace

STREAMML_REGISTER_COMMAND("train", "Train a model on Kafka ranges or files, or online from a consumer group", 60,
                          setup);

}  // namespace streamml::cli
