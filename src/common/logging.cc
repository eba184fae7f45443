// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "streamml/common/error.h"

namespace streamml {
namespace {

LogLevel initial_level() {
  const char* env = std::getenv("STREAMML_LOG_LEVEL");
  if (env == nullptr || *env == '\0') return LogLevel::kInfo;
  try {
    return parse_log_level(env);
  } catch (const ConfigError&) {
    return LogLevel::kInfo;
  }
}

std::atomic<LogLevel>& level_ref() {
  static std::atomic<LogLevel> level{initial_level()};
  return level;
}

struct SinkState {
  std::mutex mu;
  LogSink custom;  // guarded by mu
  std::shared_ptr<spdlog::logger> stderr_logger = [] {
    auto logger = spdlog::stderr_color_mt("streamml");
    logger->set_pattern("%^%Y-%m-%d %H:%M:%S.%e %l%$ %v");
    logger->set_level(spdlog::level::trace);
    return logger;
  }();
};

SinkState& sink_state() {
  static SinkState state;
  return state;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

LogLevel parse_log_level(std::string_view name) {
  if (name == "trace") return LogLevel::kTrace;
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "off") return LogLevel::kOff;
  throw ConfigError("invalid log level '" + std::string(name) +
                    "': expected trace, debug, info, warn, error or off");
}

void set_log_level(LogLevel level) { level_ref().store(level); }
LogLevel log_level() { return level_ref().load(std::memory_order_relaxed); }

void set_log_sink(LogSink sink) {
  SinkState& state = sink_state();
  std::lock_guard<std::mutex> lock(state.mu);
  state.custom = std::move(sink);
}

void log_message(LogLevel level, std::string_view message) {
  if (level < log_level() || level == LogLevel::kOff) return;
  SinkState& state = sink_state();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.custom) {
    state.custom(level, message);
    return;
  }
  state.stderr_logger->log(to_spdlog(level), "{}", message);
}

}  // namespace streamml
