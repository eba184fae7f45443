// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml train: fit a model on Kafka ranges or files (epochs, validation,
// early stopping, metrics log/topic, SVG plot), or learn online from a
// consumer group (--online -G GROUP) with checkpoints that resume exactly.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli_common.h"
#include "command.h"
#include "ml_common.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/model/model.h"
#include "streamml/train/kafka_callbacks.h"
#include "streamml/train/metrics_log.h"
#include "streamml/train/online_trainer.h"
#include "streamml/train/progress_bar.h"
#include "streamml/train/svg_plot.h"
#include "streamml/train/trainer.h"

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
  bool quiet = false;
  bool json = false;
};

std::atomic<train::OnlineTrainer*> g_online{nullptr};
std::atomic<train::Trainer*> g_trainer{nullptr};

void on_stop_signal(int) {
  if (train::OnlineTrainer* t = g_online.load()) t->request_stop();
  if (train::Trainer* t = g_trainer.load()) t->request_stop();
}

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

// The model to train: an existing model file (--resume / --model FILE), a
// TorchScript module, or a new built-in network sized by the source.
model::Model make_model(const TrainCommandOptions& o, const std::string& decoder_spec, size_t num_features,
                        const std::vector<std::string>& feature_names) {
  const bool resume_from_save = !o.save.empty() && std::filesystem::exists(o.save) && (o.resume || o.online);
  if (o.resume && !resume_from_save && !is_model_file(o.model)) {
    throw ConfigError("--resume needs an existing --save model file ('" + o.save + "' does not exist)");
  }
  if (resume_from_save || is_model_file(o.model)) {
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

train::TrainOptions make_train_options(const TrainCommandOptions& o) {
  train::TrainOptions options;
  options.optimizer = train::parse_optimizer(o.optimizer);
  options.learning_rate = o.lr;
  options.weight_decay = o.weight_decay;
  options.epochs = o.epochs;
  options.seed = o.seed;
  options.patience = o.patience;
  options.stats_mode = o.online ? train::StatsMode::kFirstBatch : train::StatsMode::kFullPass;
  options.validate();
  return options;
}

// The decoder spec: --decode, else the one stored in the model file.
std::string decoder_of(const TrainCommandOptions& o) {
  if (!o.decode.empty()) return o.decode;
  for (const std::string& path : {o.online || o.resume ? o.save : std::string(), o.model}) {
    if (!path.empty() && is_model_file(path)) return model::Model::load(path).features().decoder_spec;
  }
  throw ConfigError("--decode is required (e.g. csv:names=a+b+y,label=y; see docs/decoders.md)");
}

int run_online(TrainCommandOptions& o) {
  if (o.group.empty()) throw ConfigError("--online needs a consumer group: -G GROUP");
  if (o.input.topics.empty() || !o.input.files.empty()) throw ConfigError("--online reads --topic names, not files");
  if (o.kafka.brokers.empty()) throw ConfigError("--online needs -b BROKERS");
  if (!o.validation.empty()) throw ConfigError("--validation is for epoch training, not --online");
  const std::string decoder_spec = decoder_of(o);
  data::KafkaDatasetOptions options;
  options.config = o.kafka.make_config();
  options.config.set_default("auto.offset.reset", "earliest");
  options.group = o.group;
  options.topics = o.input.topics;
  options.decoder = decoder_spec;
  options.batch_size = o.input.batch_size;
  options.batch_wait_ms = o.batch_wait_ms;
  options.stream_timeout_ms = o.stream_timeout_ms;
  options.bad_records = data::parse_bad_record_policy(o.input.bad_records);
  options.on_data_loss = parse_data_loss_policy(o.on_data_loss);
  data::KafkaDataset dataset(options);
  model::Model model = make_model(o, decoder_spec, dataset.num_features(), dataset.feature_names());
  train::OnlineTrainer::resume(model, dataset);

  train::Trainer trainer(model, make_train_options(o));
  train::OnlineOptions online;
  online.checkpoint_path = o.save;
  online.checkpoint_every = o.checkpoint_every;
  online.max_batches = o.max_batches;
  online.predict = !o.predictions_topic.empty();
  train::OnlineTrainer online_trainer(model, trainer, online);

  std::vector<std::unique_ptr<train::Callback>> owned;
  if (!o.metrics_log.empty()) {
    owned.push_back(std::make_unique<train::MetricsLog>(train::MetricsLogOptions{o.metrics_log, o.checkpoint_every}));
  }
  if (!o.metrics_topic.empty()) {
    train::KafkaMetricsOptions m;
    m.config = options.config;
    m.topic = o.metrics_topic;
    m.every_steps = o.checkpoint_every;
    owned.push_back(std::make_unique<train::KafkaMetricsCallback>(std::move(m)));
  }
  if (!o.predictions_topic.empty()) {
    train::KafkaPredictionsOptions p;
    p.config = options.config;
    p.topic = o.predictions_topic;
    owned.push_back(std::make_unique<train::KafkaPredictionsCallback>(std::move(p)));
  }
  train::Callbacks callbacks;
  for (auto& cb : owned) callbacks.push_back(cb.get());

  g_online.store(&online_trainer);
  install_train_signals();
  train::OnlineResult result = online_trainer.run(dataset, callbacks);
  g_online.store(nullptr);
  train::Metrics summary = result.last_metrics;
  summary["batches"] = static_cast<double>(result.batches);
  summary["records"] = static_cast<double>(result.records);
  summary["checkpoints"] = static_cast<double>(result.checkpoints);
  if (dataset.lost_records() > 0) summary["lost_records"] = static_cast<double>(dataset.lost_records());
  std::printf("%s\n", format_metrics(summary, o.json).c_str());
  return kExitOk;
}

int run_epochs(TrainCommandOptions& o) {
  if (!o.group.empty()) throw ConfigError("-G is for --online training; epoch training reads --topic ranges");
  const std::string decoder_spec = decoder_of(o);
  const kafka::Config config = connect(o.kafka);
  std::unique_ptr<data::BatchSource> source = open_source(o.input, decoder_spec, config);
  std::unique_ptr<data::BatchSource> validation;
  if (!o.validation.empty()) {
    validation = open_validation(o.validation, decoder_spec, o.input.batch_size, config);
  }
  model::Model model = make_model(o, decoder_spec, source->num_features(), source->feature_names());
  train::Trainer trainer(model, make_train_options(o));

  std::vector<std::unique_ptr<train::Callback>> owned;
  if (!o.quiet) owned.push_back(std::make_unique<train::ProgressBar>());
  if (!o.metrics_log.empty()) owned.push_back(std::make_unique<train::MetricsLog>(train::MetricsLogOptions{o.metrics_log}));
  if (!o.plot.empty()) owned.push_back(std::make_unique<train::SvgPlot>(o.plot));
  if (!o.metrics_topic.empty()) {
    train::KafkaMetricsOptions m;
    if (!config.contains("bootstrap.servers")) throw ConfigError("--metrics-topic needs -b BROKERS");
    m.config = config;
    m.topic = o.metrics_topic;
    owned.push_back(std::make_unique<train::KafkaMetricsCallback>(std::move(m)));
  }
  train::Callbacks callbacks;
  for (auto& cb : owned) callbacks.push_back(cb.get());

  g_trainer.store(&trainer);
  install_train_signals();
  train::History history = trainer.fit(*source, validation.get(), callbacks);
  g_trainer.store(nullptr);
  if (!o.save.empty()) {
    model.save(o.save);
    log_info("model saved to {}", o.save);
  }
  train::Metrics summary;
  if (!history.epochs.empty()) summary.insert(history.epochs.back().begin(), history.epochs.back().end());
  summary["epochs"] = history.epochs_run;
  std::printf("%s\n", format_metrics(summary, o.json).c_str());
  return kExitOk;
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
  sub.add_option("--save", o->save, "Write the trained model file here (online: the checkpoint)");
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
  sub.add_option("--plot", o->plot, "Write training/validation curves to this SVG file");
  sub.add_option("--optimizer", o->optimizer, "sgd, adam or adamw")->capture_default_str();
  sub.add_option("--lr", o->lr, "Learning rate")->capture_default_str();
  sub.add_option("--weight-decay", o->weight_decay, "Weight decay")->capture_default_str();
  sub.add_option("--seed", o->seed, "Random seed (weights, dropout)")->capture_default_str();
  sub.add_option("--patience", o->patience, "Early stopping: epochs without improvement (0: off)");
  sub.add_flag("-q,--quiet", o->quiet, "No progress bar");
  sub.add_flag("--json", o->json, "Print the final metrics as JSON");
  return [o] { return o->online ? run_online(*o) : run_epochs(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("train", "Train a model on Kafka ranges or files, or online from a consumer group", 60,
                          setup);

}  // namespace streamml::cli
