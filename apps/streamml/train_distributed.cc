// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "train_distributed.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/range_spec.h"

namespace streamml::cli {
namespace {

// An integer environment variable, or `fallback` when it is not set.
int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (*end != '\0' || n < 0 || n > 1'000'000) {
    throw ConfigError(fmt::format("environment variable {}='{}' is not a non-negative integer", name, value));
  }
  return static_cast<int>(n);
}

std::string env_string(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// "topic:partition:first:last" (end inclusive) of a resolved range.
std::string spec_of(const kafka::ResolvedRange& r) {
  return fmt::format("{}:{}:{}:{}", r.topic, r.partition, r.start, r.end - 1);
}

std::vector<std::string> share_of(const std::vector<std::string>& specs, const kafka::Consumer& consumer,
                                  int rank, int world_size, bool wait, const std::string& flag) {
  std::vector<kafka::RangeSpec> parsed;
  for (const std::string& s : specs) parsed.push_back(kafka::parse_range_spec(s));
  const std::vector<kafka::ResolvedRange> ranges = kafka::resolve_ranges(
      consumer, parsed, kafka::kDefaultTimeout, wait ? kafka::FutureOffsets::kWait : kafka::FutureOffsets::kFail);
  std::vector<std::string> out;
  int64_t records = 0;
  for (const kafka::ResolvedRange& r : train::split_ranges(ranges, rank, world_size)) {
    out.push_back(spec_of(r));
    records += r.size();
  }
  if (out.empty()) {
    throw ConfigError(fmt::format("{}: rank {}'s share of the ranges is empty: they hold fewer records than the {} "
                                  "ranks",
                                  flag, rank, world_size));
  }
  log_info("distributed: rank {} reads {} records of {}: {}", rank, records, flag, fmt::join(out, " "));
  return out;
}

}  // namespace

void add_distributed_options(CLI::App& app, DistributedFlags& flags) {
  app.add_option("--world-size", flags.world_size,
                 "Many processes: ranks in all (default: torchrun's WORLD_SIZE, else 1; docs/training.md)");
  app.add_option("--rank", flags.rank, "Many processes: this process's rank, 0..N-1 (default: RANK)");
  app.add_option("--rendezvous", flags.rendezvous,
                 "Many processes: HOST:PORT where rank 0 listens (default: MASTER_ADDR:MASTER_PORT, else "
                 "127.0.0.1:29500)");
  app.add_option("--dist-timeout", flags.timeout_s,
                 "Many processes: seconds a step waits for the other ranks before failing")
      ->capture_default_str();
}

std::unique_ptr<DistributedRun> DistributedRun::join(const DistributedFlags& flags) {
  train::DistributedOptions o;
  o.world_size = flags.world_size > 0 ? flags.world_size : env_int("WORLD_SIZE", 1);
  if (o.world_size <= 1) {
    if (flags.rank > 0) throw ConfigError(fmt::format("--rank {} needs --world-size N > {}", flags.rank, flags.rank));
    return nullptr;
  }
  o.rank = flags.rank >= 0 ? flags.rank : env_int("RANK", -1);
  if (o.rank < 0) throw ConfigError("--world-size needs --rank R (or torchrun's RANK)");
  if (o.rank >= o.world_size) {
    throw ConfigError(fmt::format("--rank {} is invalid for --world-size {}: use 0 to {}", o.rank, o.world_size,
                                  o.world_size - 1));
  }
  if (!flags.rendezvous.empty()) {
    train::parse_rendezvous(flags.rendezvous, o, "--rendezvous");
  } else {
    const std::string addr = env_string("MASTER_ADDR"), port = env_string("MASTER_PORT");
    train::parse_rendezvous(fmt::format("{}:{}", addr.empty() ? "127.0.0.1" : addr, port.empty() ? "29500" : port),
                            o, "MASTER_ADDR:MASTER_PORT");
  }
  if (!(flags.timeout_s > 0)) throw ConfigError(fmt::format("--dist-timeout {} is invalid: use seconds > 0", flags.timeout_s));
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  return std::unique_ptr<DistributedRun>(new DistributedRun(std::move(o)));
}

void DistributedRun::take_share(InputOptions& input, const std::string& validation, const kafka::Config& config) {
  if (!input.files.empty()) {
    throw ConfigError("--world-size splits Kafka --topic ranges between the ranks; --file inputs are not split");
  }
  if (!config.contains("bootstrap.servers")) throw ConfigError("--world-size needs -b BROKERS");
  kafka::Consumer consumer(config);
  input.topics = share_of(input.topics, consumer, rank(), group_.world_size(), input.wait, "--topic");
  // A validation file is read whole by every rank: the reduced metrics are
  // the file's (every rank adds the same records).
  if (!validation.empty() && !std::filesystem::is_regular_file(validation)) {
    validation_topics_ = share_of({validation}, consumer, rank(), group_.world_size(), input.wait, "--validation");
  }
}

std::unique_ptr<data::BatchSource> DistributedRun::open_validation(const std::string& spec,
                                                                   const std::string& decoder_spec,
                                                                   const InputOptions& like,
                                                                   const kafka::Config& config,
                                                                   data::RecordCheck check) const {
  if (validation_topics_.empty()) return cli::open_validation(spec, decoder_spec, like, config, std::move(check));
  InputOptions input;
  input.batch_size = like.batch_size;
  input.bad_records = like.bad_records;
  input.wait = like.wait;
  input.topics = validation_topics_;
  return open_source(input, decoder_spec, config, std::move(check));
}

void DistributedRun::add_summary(train::Metrics& summary, model::Model& model) const {
  summary["rank"] = group_.rank();
  summary["world_size"] = group_.world_size();
  summary["weights_l2"] = train::weights_l2(model);
  const train::CollectiveStats s = group_.stats();
  if (s.gradient_reductions > 0) {
    summary["allreduce_ms_per_step"] = 1000.0 * s.gradient_seconds / static_cast<double>(s.gradient_reductions);
  }
}

}  // namespace streamml::cli
