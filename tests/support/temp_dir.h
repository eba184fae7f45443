// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// TempDir: a fresh temporary directory, removed with everything in it when
// the object goes. Header-only so unit tests (which link no test support
// library) can use it too.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace streamml::testing {

class TempDir {
 public:
  TempDir() {
    std::string base = std::filesystem::temp_directory_path() / "streamml-test-XXXXXX";
    std::vector<char> buf(base.begin(), base.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + base);
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name (nothing is created).
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return file(name); }
  // Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    std::string path = file(name);
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

 private:
  std::string path_;
};

}  // namespace streamml::testing
