// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers of the tests that drive `streamml train`/`evaluate` through the
// CLI: learnable CSV rows, writing them, running the CLI, and reading a
// number out of its --json summary line.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "support/test_kafka.h"

namespace streamml::testing {

// Value of "name":<number> in a JSON object line (NaN when absent).
inline double json_value(const std::string& json, const std::string& name) {
  const size_t at = json.find("\"" + name + "\":");
  if (at == std::string::npos) return std::nan("");
  return std::stod(json.substr(at + name.size() + 3));
}

// Learnable binary rows "a,b,y" (y = a + b > 0), decoded by
// csv:names=a+b+y,label=y.
inline std::vector<std::string> learnable_rows(int n, int seed = 0) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const int k = i * 7919 + seed * 104729;
    const double a = (k % 199 - 99) / 100.0, b = ((k / 199) % 199 - 99) / 100.0;
    out.push_back(fmt::format("{},{},{}", a, b, a + b > 0 ? 1 : 0));
  }
  return out;
}

// learnable_rows(n, seed) with every label flipped: as validation data, the
// better a model learns the training rows, the worse its val_loss, so an
// early epoch is the best.
inline std::vector<std::string> flipped_rows(int n, int seed) {
  std::vector<std::string> out;
  for (const std::string& row : learnable_rows(n, seed)) {
    out.push_back(row.substr(0, row.size() - 1) + (row.back() == '1' ? "0" : "1"));
  }
  return out;
}

// Writes `lines` to `name` in `dir`, one per line; returns the path.
inline std::string write_lines(const TempDir& dir, const std::string& name, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return dir.write(name, text);
}

// Runs the CLI with `args`; returns exit code, stdout and stderr, and
// prints stderr when it failed.
inline CommandResult run_cli(const std::string& args) {
  CommandResult r = run_command_capture(cli_path() + " " + args);
  if (r.exit_code != 0) std::cerr << "streamml " << args << " -> exit " << r.exit_code << "\n" << r.err;
  return r;
}

}  // namespace streamml::testing
