// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// catches(): whether a child process has a handler for a signal now, read
// from /proc (for tests of commands that stop gracefully on SIGINT/SIGTERM).
#pragma once

#include <sys/types.h>

#include <fstream>
#include <string>

namespace streamml::testing {

// Whether process `pid` has a handler for `sig` (SigCgt in /proc/PID/status).
inline bool catches(pid_t pid, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1;
  }
  return false;
}

}  // namespace streamml::testing
