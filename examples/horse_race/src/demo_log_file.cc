// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/demo_log_file.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::demo {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warning";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

}  // namespace

DemoLogFile::DemoLogFile(const std::string& path) : path_(path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  file_.reset(std::fopen(path.c_str(), "w"));
  if (!file_) throw InputError(fmt::format("cannot write the demo's log file {}", path));
  std::FILE* f = file_.get();
  set_log_sink([f](LogLevel level, std::string_view message) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    std::fputs(fmt::format("{:%Y-%m-%d %H:%M:%S}.{:03} {} {}\n", utc, ms, level_name(level), message).c_str(), f);
    std::fflush(f);
  });
}

DemoLogFile::~DemoLogFile() { set_log_sink(nullptr); }

}  // namespace streamml::demo
