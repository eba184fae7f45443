// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// DemoLogFile: while it lives, every log line (streamml's and librdkafka's,
// which logging.h routes) goes to a file instead of the terminal, so the
// terminal shows only the demo's board. Lines carry a UTC timestamp and the
// level, like the default stderr sink:
//
//   2026-12-05 21:30:04.123 info history: 100 races, ...
//
// Thread-safety: logging.h serialises the sink, so any thread may log; the
// object itself is created and destroyed by one thread.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace streamml::demo {

class DemoLogFile {
 public:
  // Opens (truncates) `path`, creating its directory, and installs the sink.
  // Throws InputError naming the path when it cannot be opened.
  explicit DemoLogFile(const std::string& path);
  // Restores the default sink (stderr) and closes the file.
  ~DemoLogFile();
  DemoLogFile(const DemoLogFile&) = delete;
  DemoLogFile& operator=(const DemoLogFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const {
      if (f != nullptr) std::fclose(f);
    }
  };
  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace streamml::demo
