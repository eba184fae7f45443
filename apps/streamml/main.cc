// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml: real-time machine learning on Kafka streams. See README.md.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>

#include "streamml/common/allocator.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/version.h"
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

}  // namespace streamml::cli

int main(int argc, char** argv) {
  using namespace streamml;
  tune_allocator();  // before librdkafka's threads start (common/allocator.h)
  CLI::App app{"streamml: real-time machine learning on Apache Kafka streams"};
  app.set_version_flag("--version", std::string("streamml ") + kVersion);
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : cli::kExitUsage;
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
