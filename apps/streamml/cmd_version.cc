// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <cstdio>

#include "command.h"
#include "streamml/kafka/config.h"
#include "streamml/version.h"

namespace streamml::cli {
namespace {

RunFunction setup(CLI::App& sub) {
  return [] {
    std::printf("streamml %s (librdkafka %s)\n", kVersion, kafka::librdkafka_version().c_str());
    return kExitOk;
  };
}

}  // namespace

STREAMML_REGISTER_COMMAND("version", "Print the version of streamml and librdkafka", 900, setup);

}  // namespace streamml::cli
