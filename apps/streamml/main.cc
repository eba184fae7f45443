// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml: real-time machine learning on Kafka streams. See README.md.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>

#include "streamml/common/allocator.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "cli_common.h"
#include "command.h"

namespace streamml::cli {

static std::vector<CommandInfo>& registry() {
  static std::vector<CommandInfo> commands;
  return commands;
}

bool register_command(CommandInfo info) {
  registry().push_back(std::move(info));
  return true;
}

const std::vector<CommandInfo>& registered_commands() { return registry(); }

namespace {

// "streamml topics create": the deepest sub-command that was parsed.
std::string command_path(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* sub = app; sub != nullptr;) {
    const CLI::App* next = nullptr;
    for (const CLI::App* child : sub->get_subcommands()) {
      if (child->parsed()) next = child;
    }
    if (next != nullptr) path += " " + next->get_name();
    sub = next;
  }
  return path;
}

}  // namespace

}  // namespace streamml::cli

int main(int argc, char** argv) {
  using namespace streamml;
  tune_allocator();  // before librdkafka's threads start (common/allocator.h)
  // Named: usage lines show "streamml", not the path it was started from.
  CLI::App app{"streamml: real-time machine learning on Apache Kafka streams", "streamml"};
  app.set_version_flag("--version", cli::version_text());
  // Usage errors read like every other error of the tool.
  app.failure_message([](const CLI::App* root, const CLI::Error& e) {
    return "streamml: error: " + std::string(e.what()) + "\nRun '" + cli::command_path(root) +
           " --help' for more information.\n";
  });
  app.require_subcommand(1);
  app.fallthrough();  // --log-level may follow the sub-command
  std::string log_level;
  app.add_option("--log-level", log_level,
                 "trace|debug|info|warn|error|off (default: $STREAMML_LOG_LEVEL or info)");

  auto commands = cli::registered_commands();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  std::map<CLI::App*, cli::RunFunction> runs;
  for (const auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    runs[sub] = command.setup(*sub);
  }
  // After the sub-commands: CLI11 copies a footer into those added later.
  cli::set_examples(app, {"streamml broker --topic events:3",
                          "streamml consume -b localhost:9092 -t events -p 0 -o beginning -e",
                          "streamml train --file train.csv --decode csv:names=a+b+y,label=y --task binary --save m.smlm"});

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : cli::kExitUsage;
  }
  // The help test checks that every example parses, without running it.
  if (const char* parse_only = std::getenv("STREAMML_PARSE_ONLY"); parse_only != nullptr && *parse_only == '1') {
    return cli::kExitOk;
  }

  try {
    if (!log_level.empty()) set_log_level(parse_log_level(log_level));
    for (auto& [sub, run] : runs) {
      if (sub->parsed()) return run();
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "streamml: error: %s\n", e.what());
    return cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "streamml: error: %s\n", e.what());
    return cli::kExitFailure;
  }
  return cli::kExitUsage;
}
