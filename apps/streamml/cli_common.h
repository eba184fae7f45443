// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Options shared by the commands that talk to Kafka: -b BROKERS (or
// `-b embedded`, an embedded cluster inside this one command), repeated
// -X key=value librdkafka properties (passed through untouched, as kcat does),
// and --timeout for reaching the cluster.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/embedded_cluster.h"

namespace streamml::cli {

struct KafkaOptions {
  std::string brokers;                  // -b
  std::vector<std::string> properties;  // -X key=value
  int timeout_ms = 10000;               // --timeout

  // Adds -b, -X and --timeout to `app`.
  void add_to(CLI::App& app, bool brokers_required = true);

  // Builds the librdkafka config (bootstrap.servers plus -X, validated: a bad
  // property is a ConfigError naming it). Starts the embedded cluster when
  // -b is `embedded`. Then checks, within --timeout, that the cluster answers
  // (kafka::KafkaException naming the address otherwise).
  kafka::Config make_config();

  kafka::milliseconds timeout() const { return kafka::milliseconds(timeout_ms); }

  // Set when -b embedded started a cluster for this command.
  std::unique_ptr<kafka::EmbeddedCluster> embedded;
};

// Validates an integer option: at least `minimum`, else "<value> is invalid:
// <hint>" (CLI11 prefixes the option's name).
CLI::Validator at_least_check(long long minimum, std::string hint, std::string name);

// Validates a --stream-timeout value (milliseconds): -1 (never) or >= 0.
CLI::Validator stream_timeout_check();

// --on-data-loss report|fail for group readers (records lost to retention
// before they were read; see docs/reliability.md).
void add_on_data_loss_option(CLI::App& app, std::string& value);
kafka::DataLossPolicy parse_data_loss_policy(const std::string& value);

// The one version text of `streamml --version` and `streamml version`:
// "streamml 0.1.0 (librdkafka 2.x.y)".
std::string version_text();

// Adds `old_name` as a hidden, deprecated alias of `new_name` storing into
// `target`: it works for one release and prints a deprecation note on stderr
// ("streamml: warning: --decoder is deprecated; use --decode").
CLI::Option* add_deprecated_alias(CLI::App& app, const std::string& old_name, const std::string& new_name,
                                  std::string& target);

// Ends `app`'s --help with "Examples:" and these command lines (2 or 3, each
// a full `streamml ...` command that parses; the help test parses each one
// with STREAMML_PARSE_ONLY=1).
void set_examples(CLI::App& app, const std::vector<std::string>& examples);

// Installs SIGINT/SIGTERM handlers; stop_requested() turns true on either.
// `serve`, `consume`, `broker` and `demo` have them from the process's start
// (before LibTorch's static initializers), and make_config()'s probe of the
// cluster ends early on a stop signal.
void install_stop_signals();
bool stop_requested();
// The same, as the flag that library loops take (`const std::atomic<bool>&`).
const std::atomic<bool>& stop_flag();
// Gives SIGINT/SIGTERM back their default dispositions (a command that does
// not stop early); a stop signal that was caught before ends the process now.
void restore_stop_signals();

}  // namespace streamml::cli
