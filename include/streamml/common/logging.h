// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The one logging entry point. Library code never prints to stdout: every
// message goes through here (to stderr by default). librdkafka's own log lines
// are routed here too (see kafka/config.h). Thread-safe.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string_view>

namespace streamml {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace|debug|info|warn|error|off"; throws ConfigError naming the value.
LogLevel parse_log_level(std::string_view name);

// Messages below this level are dropped. Default: kInfo, or the value of
// the STREAMML_LOG_LEVEL environment variable when set.
void set_log_level(LogLevel level);
LogLevel log_level();

// Replaces the sink (default: stderr with a timestamp). Pass nullptr to restore.
using LogSink = std::function<void(LogLevel, std::string_view)>;
void set_log_sink(LogSink sink);

void log_message(LogLevel level, std::string_view message);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level < log_level()) return;
  log_message(level, fmt::format(format, std::forward<Args>(args)...));
}

#define STREAMML_LOG_FN(name, lvl)                                   \
  template <typename... Args>                                        \
  void name(fmt::format_string<Args...> format, Args&&... args) {    \
    log(lvl, format, std::forward<Args>(args)...);                   \
  }
STREAMML_LOG_FN(log_debug, LogLevel::kDebug)
STREAMML_LOG_FN(log_info, LogLevel::kInfo)
STREAMML_LOG_FN(log_warn, LogLevel::kWarn)
STREAMML_LOG_FN(log_error, LogLevel::kError)
#undef STREAMML_LOG_FN

}  // namespace streamml
