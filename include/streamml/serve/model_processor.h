// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The default Processor of `streamml serve`: a model file (model/model.h)
// whose stored decoder spec decodes the inputs and whose predictions are
// rendered as JSON or CSV (model/predictions.h). Rows with a non-finite
// feature are rejected one by one (the rest of the batch is served).
// Version: the model file's "version" metadata when set, otherwise
// "crc-<8 hex digits>" of the file's payload CRC (changes with the content).
//
// No LibTorch types here: the model layer keeps LibTorch behind a pimpl.
#pragma once

#include <memory>
#include <string>

#include "streamml/serve/processor.h"

namespace streamml::serve {

enum class OutputFormat { kJson, kCsv };

// Parses "json" or "csv"; throws ConfigError naming --output-format.
OutputFormat parse_output_format(const std::string& name);

struct ModelProcessorOptions {
  std::string model_path;         // model file written by Model::save (required)
  OutputFormat format = OutputFormat::kJson;  // rendering of each prediction
  std::string decoder_spec;       // "" = the decoder stored in the model file
};

// Loads the model. Throws InputError naming the file when it cannot be
// loaded, ConfigError when it stores no decoder spec and none is given, or
// when the decoder's feature count differs from the model's.
// Thread-safety: the returned processor is used from one thread.
std::unique_ptr<Processor> make_model_processor(const ModelProcessorOptions& options);

// A factory that calls make_model_processor (for Server and hot reload).
ProcessorFactory model_processor_factory(ModelProcessorOptions options);

}  // namespace streamml::serve
