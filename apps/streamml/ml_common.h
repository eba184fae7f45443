// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers shared by `train`, `evaluate` and `predict`: opening the records to
// read (Kafka range specs or files) as a BatchSource, loading a model file,
// and printing metrics.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>
#include "cli_common.h"
#include "streamml/data/bad_record.h"
#include "streamml/data/batch.h"
#include "streamml/train/metrics.h"

namespace streamml::cli {

// Where records come from: --topic range specs (bounded) or --file paths.
struct InputOptions {
  std::vector<std::string> topics;  // --topic topic[:partition[:start[:end]]]
  std::vector<std::string> files;   // --file PATH
  size_t batch_size = 256;          // --batch-size
  std::string bad_records = "fail"; // --bad-records fail|skip
  bool wait = false;                // --wait: wait for range offsets not produced yet

  // Adds --topic, --file, --bad-records and --wait (not --batch-size: commands differ).
  void add_to(CLI::App& app);
  // Throws ConfigError unless exactly one of --topic and --file was given.
  void validate() const;
};

// The Kafka config of -b/-X (connecting once; `-b embedded` starts one
// cluster), or an empty config when -b was not given.
kafka::Config connect(KafkaOptions& kafka);

// Opens a bounded source over `input` decoded with `decoder_spec`. Kafka
// sources use `config` (ConfigError when it is empty: -b is required).
// Records failing `check` are bad records (--bad-records applies).
std::unique_ptr<data::BatchSource> open_source(const InputOptions& input, const std::string& decoder_spec,
                                               const kafka::Config& config, data::RecordCheck check = {});

// Opens a validation source: `spec` is a file when such a file exists,
// otherwise a Kafka range spec; batch size, --bad-records and --wait as in
// `input`.
std::unique_ptr<data::BatchSource> open_validation(const std::string& spec, const std::string& decoder_spec,
                                                   const InputOptions& input, const kafka::Config& config,
                                                   data::RecordCheck check = {});

// Checks, before any work is done, that the file `path` given with `flag`
// (e.g. "--plot") can be written: not a directory, in an existing writable
// directory, and writable when it exists. ConfigError naming the flag.
void check_output_path(const std::string& flag, const std::string& path);

// "accuracy=0.9812 loss=0.1234 records=600" (4 significant digits, counts
// as integers) or one JSON object (full precision).
std::string format_metrics(const train::Metrics& metrics, bool json);

}  // namespace streamml::cli
