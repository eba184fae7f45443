// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml evaluate: metrics of a model file on Kafka ranges or files,
// decoded with the model's own decoder spec.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli_common.h"
#include "command.h"
#include "ml_common.h"
#include "streamml/common/error.h"
#include "streamml/data/file_source.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/model/model.h"
#include "streamml/model/record_check.h"
#include "streamml/train/trainer.h"

namespace streamml::cli {
namespace {

struct EvaluateOptions {
  KafkaOptions kafka;
  InputOptions input;
  std::string model;
  std::string decode;
  bool json = false;
};

// The error when evaluation read no record: what was read (the resolved
// ranges or the files) and the bad records skipped, if any.
std::string nothing_read(const InputOptions& input, const data::BatchSource& source) {
  std::vector<std::string> names = input.files;
  data::BadRecordReport bad;
  if (const auto* kafka = dynamic_cast<const data::KafkaDataset*>(&source)) {
    names = kafka->resolved_ranges();
    bad = kafka->report();
  } else if (const auto* files = dynamic_cast<const data::FileSource*>(&source)) {
    bad = files->report();
  }
  std::string what;
  for (const std::string& name : names) what += (what.empty() ? "" : ", ") + name;
  if (bad.count > 0) {
    return fmt::format("no record was read from {}: every record was bad and skipped ({})", what, bad.summary());
  }
  return fmt::format("no record was read from {}: {} empty", what, names.size() == 1 ? "it is" : "they are");
}

int run(EvaluateOptions& o) {
  o.input.validate();
  model::Model model = model::Model::load(o.model);
  std::string decoder_spec = o.decode.empty() ? model.features().decoder_spec : o.decode;
  if (decoder_spec.empty()) throw ConfigError("the model file has no decoder spec: give --decode");
  std::unique_ptr<data::BatchSource> source = open_source(
      o.input, decoder_spec, connect(o.kafka), model::usable_record_check(model.task(), model.features().feature_names));
  if (source->num_labels() == 0) {
    throw ConfigError("decoder spec '" + decoder_spec + "' has no label: evaluate needs labelled records");
  }
  train::Metrics metrics = train::evaluate(model, *source);
  if (metrics.empty()) throw InputError(nothing_read(o.input, *source));
  std::printf("%s\n", format_metrics(metrics, o.json).c_str());
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<EvaluateOptions>();
  o->kafka.add_to(sub, /*brokers_required=*/false);
  o->input.add_to(sub);
  sub.add_option("--model", o->model, "Model file written by train")->required();
  sub.add_option("--batch-size", o->input.batch_size, "Records per batch")->capture_default_str();
  sub.add_option("--decode", o->decode, "Override the model's decoder spec");
  sub.add_flag("--json", o->json, "Print the metrics as one JSON object");
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("evaluate", "Print a model's metrics on Kafka ranges or files", 61, setup);

}  // namespace streamml::cli
