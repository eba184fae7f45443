// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The `-X key=value` option parser (kafka::Config::set_property) on arbitrary
// input, one property per line: every line is either set or rejected with a
// ConfigError, and a set property reads back as given.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "streamml/common/error.h"
#include "streamml/kafka/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // librdkafka loads plugin.library.paths (dlopen) and runs interceptors as
  // soon as they are set: not something to do with random paths.
  if (input.find("plugin") != std::string_view::npos || input.find("interceptor") != std::string_view::npos) {
    return 0;
  }
  streamml::kafka::Config config;
  size_t begin = 0;
  while (begin <= input.size()) {
    size_t end = input.find('\n', begin);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(begin, end - begin);
    begin = end + 1;
    try {
      config.set_property(line);
    } catch (const streamml::ConfigError& e) {
      if (std::string_view(e.what()).empty()) std::abort();
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) std::abort();  // must have been rejected
    const auto value = config.get(line.substr(0, eq));
    if (!value || *value != line.substr(eq + 1)) std::abort();
  }
  (void)config.to_string();
  return 0;
}
