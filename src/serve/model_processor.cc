// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/model_processor.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"
#include "streamml/model/model.h"
#include "streamml/model/model_file.h"
#include "streamml/model/predictions.h"

namespace streamml::serve {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open model file '" + path + "'");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string version_of(const model::Model& model, const std::string& bytes, const std::string& path) {
  auto it = model.metadata().find("version");
  if (it != model.metadata().end() && !it->second.empty()) return it->second;
  return model::content_id(bytes, path);
}

class ModelProcessor final : public Processor {
 public:
  explicit ModelProcessor(const ModelProcessorOptions& options) : format_(options.format) {
    if (options.model_path.empty()) throw ConfigError("--model: a model file is required");
    const std::string bytes = read_file(options.model_path);
    model_ = std::make_unique<model::Model>(model::Model::deserialize(bytes, options.model_path));
    version_ = version_of(*model_, bytes, options.model_path);
    decoder_spec_ = options.decoder_spec.empty() ? model_->features().decoder_spec : options.decoder_spec;
    if (decoder_spec_.empty()) {
      throw ConfigError("model file '" + options.model_path +
                        "' stores no decoder spec: give one with --decode");
    }
    // Inputs to a served model usually carry no label: the stored spec
    // (which names one) decodes them with or without it.
    if (options.decoder_spec.empty()) decoder_spec_ = data::features_only_spec(decoder_spec_);
    auto decoder = data::make_decoder(decoder_spec_);
    if (decoder->num_features() != model_->num_features()) {
      throw ConfigError("decoder '" + decoder_spec_ + "' yields " + std::to_string(decoder->num_features()) +
                        " features but model '" + options.model_path + "' expects " +
                        std::to_string(model_->num_features()));
    }
  }

  std::string decoder_spec() const override { return decoder_spec_; }
  std::string version() const override { return version_; }
  bool reads_payloads() const override { return false; }  // the decoded features only
  std::string output_schema() const override {
    return std::string(format_ == OutputFormat::kCsv ? "csv " : "json ") + model_->task().to_string();
  }

  void process(const data::Batch& batch, std::vector<ProcessResult>& results) override {
    results.assign(batch.size, ProcessResult{});
    if (batch.size == 0) return;
    // Model::predict rejects a whole batch with a non-finite feature: reject
    // those rows one by one and predict the rest.
    const size_t width = batch.num_features;
    std::vector<size_t> good;
    good.reserve(batch.size);
    for (size_t r = 0; r < batch.size; ++r) {
      const float* row = batch.row(r);
      size_t bad = width;
      for (size_t f = 0; f < width; ++f) {
        if (!std::isfinite(row[f])) {
          bad = f;
          break;
        }
      }
      if (bad == width) {
        good.push_back(r);
      } else {
        results[r].error = "feature " + std::to_string(bad) + " is not finite";
      }
    }
    if (good.empty()) return;
    const data::Batch* input = &batch;
    data::Batch subset;
    if (good.size() != batch.size) {
      subset.size = good.size();
      subset.num_features = width;
      subset.features.reserve(good.size() * width);
      for (size_t r : good) {
        subset.features.insert(subset.features.end(), batch.row(r), batch.row(r) + width);
        subset.meta.push_back(batch.meta[r]);
      }
      input = &subset;
    }
    const model::Predictions predictions = model_->predict(*input);
    for (size_t i = 0; i < good.size(); ++i) {
      OutputRecord out;
      const data::RecordMeta& meta = batch.meta[good[i]];
      if (meta.has_key) out.key = meta.key;
      out.value = format_ == OutputFormat::kCsv ? model::format_csv(predictions, i)
                                                 : model::format_json(predictions, i);
      results[good[i]].output = std::move(out);
    }
  }

 private:
  OutputFormat format_;
  std::unique_ptr<model::Model> model_;
  std::string version_;
  std::string decoder_spec_;
};

}  // namespace

OutputFormat parse_output_format(const std::string& name) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  throw ConfigError("--format: expected json or csv, got '" + name + "'");
}

std::unique_ptr<Processor> make_model_processor(const ModelProcessorOptions& options) {
  return std::make_unique<ModelProcessor>(options);
}

ProcessorFactory model_processor_factory(ModelProcessorOptions options) {
  return [options] { return make_model_processor(options); };
}

}  // namespace streamml::serve
