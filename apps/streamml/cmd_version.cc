// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <cstdio>

#include "cli_common.h"
#include "command.h"

namespace streamml::cli {
namespace {

RunFunction setup(CLI::App& sub) {
  set_examples(sub, {"streamml version", "streamml --version"});
  return [] {
    std::printf("%s\n", version_text().c_str());
    return kExitOk;
  };
}

}  // namespace

STREAMML_REGISTER_COMMAND("version", "Print the version of streamml and librdkafka", 900, setup);

}  // namespace streamml::cli
