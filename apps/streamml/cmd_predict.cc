// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml predict: one prediction per input record, in input order, to a
// Kafka topic (key = input key, headers = source topic/partition/offset) or
// to stdout. The model file's decoder spec decodes the inputs.
#include <cstdio>

#include "cli_common.h"
#include "command.h"
#include "ml_common.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/decoder.h"
#include "streamml/model/model.h"
#include "streamml/model/record_check.h"
#include "streamml/train/kafka_callbacks.h"
#include "streamml/train/trainer.h"

namespace streamml::cli {
namespace {

struct PredictOptions {
  KafkaOptions kafka;
  InputOptions input;
  std::string model;
  std::string decode;
  std::string output_topic;
  std::string output;
  std::string format = "json";
  std::string output_partition = "key";
  bool include_source = false;
};

// Prints each prediction as one line on stdout.
class StdoutPredictions final : public train::Callback {
 public:
  StdoutPredictions(train::PredictionEncoding encoding, bool include_source)
      : encoding_(encoding), include_source_(include_source) {}
  void on_predict_batch_end(const data::Batch& batch, const model::Predictions& predictions) override {
    model::PredictionFormat format;
    format.include_source = include_source_;
    for (size_t row = 0; row < predictions.size; ++row) {
      const data::RecordMeta* meta = row < batch.meta.size() ? &batch.meta[row] : nullptr;
      std::string line = encoding_ == train::PredictionEncoding::kJson
                             ? model::format_json(predictions, row, meta, format)
                             : model::format_csv(predictions, row, meta, format);
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }

 private:
  train::PredictionEncoding encoding_;
  bool include_source_;
};

int run(PredictOptions& o) {
  o.input.validate();
  if (o.output_topic.empty() == o.output.empty()) {
    throw ConfigError("give either --output-topic TOPIC or --output - (stdout)");
  }
  if (!o.output.empty() && o.output != "-") throw ConfigError("--output takes only '-' (stdout)");
  train::PredictionEncoding encoding = train::parse_prediction_encoding(o.format);
  model::Model model = model::Model::load(o.model);
  std::string decoder_spec = o.decode.empty() ? model.features().decoder_spec : o.decode;
  if (decoder_spec.empty()) throw ConfigError("the model file has no decoder spec: give --decode");
  // Predictions need no label: records are decoded with or without theirs.
  decoder_spec = data::features_only_spec(decoder_spec);
  const kafka::Config config = connect(o.kafka);
  std::unique_ptr<data::BatchSource> source =
      open_source(o.input, decoder_spec, config, model::usable_record_check(model.task(), model.features().feature_names));

  std::unique_ptr<train::Callback> sink;
  train::KafkaPredictionsCallback* kafka_sink = nullptr;
  if (!o.output_topic.empty()) {
    if (o.kafka.brokers.empty()) throw ConfigError("--output-topic needs -b BROKERS");
    train::KafkaPredictionsOptions p;
    p.config = config;
    p.topic = o.output_topic;
    p.encoding = encoding;
    p.include_source = o.include_source;
    if (o.output_partition == "key") {
      p.partition_mode = train::PartitionMode::kPartitioner;
    } else if (o.output_partition == "source") {
      p.partition_mode = train::PartitionMode::kSource;
    } else {
      p.partition_mode = train::PartitionMode::kFixed;
      try {
        size_t used = 0;
        p.partition = std::stoi(o.output_partition, &used);
        if (used != o.output_partition.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw ConfigError("--output-partition '" + o.output_partition + "' is invalid: use key, source or a number");
      }
    }
    auto callback = std::make_unique<train::KafkaPredictionsCallback>(std::move(p));
    kafka_sink = callback.get();
    sink = std::move(callback);
  } else {
    sink = std::make_unique<StdoutPredictions>(encoding, o.include_source);
  }
  int64_t records = train::predict(model, *source, {sink.get()});
  if (kafka_sink != nullptr) {
    kafka_sink->flush();
    log_info("wrote {} predictions to {}", records, o.output_topic);
  }
  std::fflush(stdout);
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<PredictOptions>();
  o->kafka.add_to(sub, /*brokers_required=*/false);
  o->input.add_to(sub);
  sub.add_option("--model", o->model, "Model file written by train")->required();
  sub.add_option("--batch-size", o->input.batch_size, "Records per batch")->capture_default_str();
  sub.add_option("--decode", o->decode, "Override the model's decoder spec");
  sub.add_option("--output-topic", o->output_topic, "Write predictions to this topic");
  sub.add_option("--output", o->output, "'-': print predictions on stdout");
  sub.add_option("--format", o->format, "json or csv")->capture_default_str();
  sub.add_option("--output-partition", o->output_partition,
                 "key (partitioner), source (the input's partition) or a partition number")
      ->capture_default_str();
  sub.add_flag("--include-source", o->include_source, "Put topic, partition, offset and key in each prediction");
  set_examples(sub, {"streamml predict --model model.smlm --file inputs.csv --output - --format csv",
                     "streamml predict -b localhost:9092 --model model.smlm --topic requests:0 --output-topic scores"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("predict", "Predict Kafka ranges or files with a model file, in input order", 62, setup);

}  // namespace streamml::cli
