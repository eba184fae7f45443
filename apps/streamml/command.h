// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Sub-command registry of the `streamml` tool. Each command lives in its own
// cmd_<name>.cc and registers itself with STREAMML_REGISTER_COMMAND; main.cc
// knows none of them by name. A command's setup function adds its options to
// the CLI11 sub-app and returns the function that runs it (exit code).
//
// Exit codes: 0 success, 1 runtime failure (Kafka, data, model), 2 usage or
// configuration error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace streamml::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

using RunFunction = std::function<int()>;
using SetupFunction = std::function<RunFunction(CLI::App& sub)>;

struct CommandInfo {
  std::string name;
  std::string description;
  int order = 100;  // position in --help
  SetupFunction setup;
};

bool register_command(CommandInfo info);
const std::vector<CommandInfo>& registered_commands();

}  // namespace streamml::cli

#define STREAMML_CONCAT_INNER(a, b) a##b
#define STREAMML_CONCAT(a, b) STREAMML_CONCAT_INNER(a, b)
#define STREAMML_REGISTER_COMMAND(...)                                                    \
  static const bool STREAMML_CONCAT(streamml_command_registered_, __LINE__) [[maybe_unused]] = \
      ::streamml::cli::register_command(::streamml::cli::CommandInfo{__VA_ARGS__})
