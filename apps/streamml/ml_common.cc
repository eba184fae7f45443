// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "ml_common.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "streamml/common/error.h"
#include "streamml/data/bad_record.h"
#include "streamml/data/file_source.h"
#include "streamml/data/kafka_dataset.h"

namespace streamml::cli {

void InputOptions::add_to(CLI::App& app) {
  app.add_option("--topic", topics, "Kafka range topic[:partition[:start[:end]]] to read (repeatable)");
  app.add_option("--file", files, "CSV or JSON-lines file to read instead of Kafka (repeatable)");
  app.add_option("--bad-records", bad_records,
                 "Undecodable or invalid records (non-finite feature, label outside the task): fail or skip")
      ->capture_default_str();
  app.add_flag("--wait", wait, "Wait (with progress lines) for --topic offsets not produced yet; default: fail "
                               "at once naming them");
}

void InputOptions::validate() const {
  if (topics.empty() == files.empty()) throw ConfigError("give either --topic or --file (exactly one of them)");
  if (batch_size == 0) throw ConfigError("--batch-size must be at least 1");
}

kafka::Config connect(KafkaOptions& kafka) {
  if (kafka.brokers.empty()) return {};
  return kafka.make_config();
}

std::unique_ptr<data::BatchSource> open_source(const InputOptions& input, const std::string& decoder_spec,
                                               const kafka::Config& config, data::RecordCheck check) {
  input.validate();
  data::BadRecordPolicy policy = data::parse_bad_record_policy(input.bad_records);
  if (policy == data::BadRecordPolicy::kDeadLetter) {
    throw ConfigError("--bad-records dead-letter is not supported here: use fail or skip");
  }
  if (!input.files.empty()) {
    data::FileSourceOptions options;
    options.paths = input.files;
    options.decoder_spec = decoder_spec;
    options.batch_size = input.batch_size;
    options.bad_records = policy;
    options.check = std::move(check);
    return std::make_unique<data::FileSource>(std::move(options));
  }
  if (!config.contains("bootstrap.servers")) throw ConfigError("--topic needs -b BROKERS");
  data::KafkaDatasetOptions options;
  options.config = config;
  options.ranges = input.topics;
  options.decoder = decoder_spec;
  options.batch_size = input.batch_size;
  options.bad_records = policy;
  options.wait_for_records = input.wait;
  options.check = std::move(check);
  return std::make_unique<data::KafkaDataset>(std::move(options));
}

std::unique_ptr<data::BatchSource> open_validation(const std::string& spec, const std::string& decoder_spec,
                                                   const InputOptions& like, const kafka::Config& config,
                                                   data::RecordCheck check) {
  InputOptions input;
  input.batch_size = like.batch_size;
  input.bad_records = like.bad_records;
  input.wait = like.wait;
  if (std::filesystem::is_regular_file(spec)) {
    input.files = {spec};
  } else {
    input.topics = {spec};
  }
  return open_source(input, decoder_spec, config, std::move(check));
}

void check_output_path(const std::string& flag, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path file(path);
  if (path.empty()) throw ConfigError(flag + " needs a file path");
  if (fs::is_directory(file, ec)) {
    throw ConfigError(fmt::format("{} '{}' is a directory: give a file path", flag, path));
  }
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw ConfigError(fmt::format("{} '{}': directory '{}' does not exist", flag, path, dir.string()));
  }
  const bool exists = fs::exists(file, ec);
  if (::access(exists ? file.c_str() : dir.c_str(), W_OK) != 0) {
    throw ConfigError(fmt::format("{} '{}' cannot be written: {}", flag, path,
                                  exists ? std::strerror(errno) : "directory '" + dir.string() + "' is not writable"));
  }
}

std::string format_metrics(const train::Metrics& metrics, bool json) {
  std::string out;
  for (const auto& [name, value] : metrics) {
    // JSON: full precision; for people: counts as integers, the rest rounded
    // to 4 significant digits.
    const bool count = std::isfinite(value) && value == std::floor(value) && std::abs(value) < 1e15;
    std::string number = !std::isfinite(value) ? (json ? "null" : "nan")
                         : json              ? fmt::format("{}", value)
                         : count             ? fmt::format("{}", static_cast<int64_t>(value))
                                             : fmt::format("{:.4g}", value);
    if (name == "records" && std::isfinite(value)) number = fmt::format("{}", static_cast<int64_t>(value));
    if (json) {
      out += fmt::format("{}\"{}\":{}", out.empty() ? "{" : ",", name, number);
    } else {
      out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, number);
    }
  }
  if (json) out += out.empty() ? "{}" : "}";
  return out;
}

}  // namespace streamml::cli
