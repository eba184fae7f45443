// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// HotReload: the processor now serving and its decoder, swapped between
// micro-batches for a new one built by the factory when a reload is asked
// for or the watched file's mtime changes. A new processor takes over only
// when it fits what is served: its decoder reads the same input format into
// as many features, and its output_schema() is the same. Otherwise, or when
// the factory throws, the old processor keeps serving and the error (naming
// both shapes) is logged.
//
// Thread-safety: one thread (the serving loop) uses it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "streamml/data/decoder.h"
#include "streamml/serve/processor.h"

namespace streamml::serve {

class HotReload {
 public:
  enum class Outcome { kNone, kReloaded, kFailed };

  // watch_path "": no file is watched; else its mtime is checked at most
  // every `watch_interval`.
  HotReload(ProcessorFactory factory, std::string watch_path, std::chrono::milliseconds watch_interval);

  // Builds the first processor (the factory's exception propagates: a model
  // that cannot be loaded).
  void load();
  // Builds and installs a new processor when `requested` or the watched
  // file changed; returns what happened (kFailed: the old one serves on).
  Outcome maybe_reload(bool requested);

  Processor& processor() const { return *processor_; }
  // The processor's decoder; nullptr when it takes raw payloads.
  data::Decoder* decoder() const { return decoder_.get(); }

 private:
  void install(std::unique_ptr<Processor> p);
  // "" when `next` can take over from the processor now serving; otherwise
  // what differs, naming both shapes.
  std::string incompatibility(const Processor& next) const;

  ProcessorFactory factory_;
  const std::string watch_path_;
  const std::chrono::milliseconds watch_interval_;
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<data::Decoder> decoder_;
  std::optional<std::filesystem::file_time_type> watched_mtime_;
  std::chrono::steady_clock::time_point next_watch_check_;
};

}  // namespace streamml::serve
