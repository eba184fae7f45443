// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml evaluate: metrics of a model file on Kafka ranges or files,
// decoded with the model's own decoder spec.
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
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

// [[tn,fp],[fn,tp]]: rows are the true classes, columns the predicted ones.
std::string confusion_json(const train::ConfusionMatrix& m) {
  std::string out = "[";
  for (size_t r = 0; r < m.size(); ++r) out += fmt::format("{}[{}]", r == 0 ? "" : ",", fmt::join(m[r], ","));
  return out + "]";
}

// confusion matrix (rows: true class, columns: predicted class)
//        pred 0  pred 1
// true 0     412      31
// true 1      27     530
std::string confusion_text(const train::ConfusionMatrix& m) {
  size_t width = 6;
  for (const auto& row : m) {
    for (uint64_t v : row) width = std::max(width, std::to_string(v).size());
  }
  const std::string label_width(std::string("true ").size() + std::to_string(m.size() - 1).size(), ' ');
  std::string out = "confusion matrix (rows: true class, columns: predicted class)\n" + label_width;
  for (size_t c = 0; c < m.size(); ++c) out += fmt::format("  {:>{}}", fmt::format("pred {}", c), width);
  for (size_t r = 0; r < m.size(); ++r) {
    out += fmt::format("\n{:<{}}", fmt::format("true {}", r), label_width.size());
    for (uint64_t v : m[r]) out += fmt::format("  {:>{}}", v, width);
  }
  return out;
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
  train::Evaluation evaluation = train::evaluate_report(model, *source);
  if (evaluation.metrics.empty()) throw InputError(nothing_read(o.input, *source));
  std::string out = format_metrics(evaluation.metrics, o.json);
  if (!evaluation.confusion.empty()) {
    if (o.json) {
      out.insert(out.size() - 1, ",\"confusion_matrix\":" + confusion_json(evaluation.confusion));
    } else {
      out += "\n" + confusion_text(evaluation.confusion);
    }
  }
  std::printf("%s\n", out.c_str());
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<EvaluateOptions>();
  o->kafka.add_to(sub, /*brokers_required=*/false);
  o->input.add_to(sub);
  sub.add_option("--model", o->model, "Model file written by train")->required();
  sub.add_option("--batch-size", o->input.batch_size, "Records per batch")->capture_default_str();
  sub.add_option("--decode", o->decode, "Override the model's decoder spec");
  sub.add_flag("--json", o->json, "Print the metrics as one JSON object (classification: with \"confusion_matrix\", "
                                 "rows the true classes)");
  set_examples(sub, {"streamml evaluate --model model.smlm --file test.csv",
                     "streamml evaluate -b localhost:9092 --model model.smlm --topic events:0:9000:9999 --json"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("evaluate", "Print a model's metrics on Kafka ranges or files", 61, setup);

}  // namespace streamml::cli
