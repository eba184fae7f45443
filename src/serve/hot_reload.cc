// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/hot_reload.h"

#include <exception>
#include <system_error>
#include <utility>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/decoder_spec.h"

namespace streamml::serve {
namespace {

std::optional<std::filesystem::file_time_type> mtime_of(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return std::nullopt;
  return t;
}

}  // namespace

HotReload::HotReload(ProcessorFactory factory, std::string watch_path, std::chrono::milliseconds watch_interval)
    : factory_(std::move(factory)), watch_path_(std::move(watch_path)), watch_interval_(watch_interval) {}

void HotReload::load() {
  if (!watch_path_.empty()) watched_mtime_ = mtime_of(watch_path_);
  install(factory_());
}

void HotReload::install(std::unique_ptr<Processor> p) {
  const std::string spec = p->decoder_spec();
  decoder_ = spec.empty() ? nullptr : data::make_decoder(spec);
  processor_ = std::move(p);
}

HotReload::Outcome HotReload::maybe_reload(bool requested) {
  using Clock = std::chrono::steady_clock;
  bool due = requested;
  if (!watch_path_.empty() && Clock::now() >= next_watch_check_) {
    next_watch_check_ = Clock::now() + watch_interval_;
    auto t = mtime_of(watch_path_);
    if (t && t != watched_mtime_) {
      watched_mtime_ = t;
      due = true;
    }
  }
  if (!due) return Outcome::kNone;
  const std::string old_version = processor_->version();
  try {
    std::unique_ptr<Processor> next = factory_();
    if (std::string why = incompatibility(*next); !why.empty()) {
      throw ConfigError("the new model (version " + next->version() + ") does not fit what is served: " + why);
    }
    install(std::move(next));
    log_info("serve: reloaded; model version {} -> {}", old_version, processor_->version());
    return Outcome::kReloaded;
  } catch (const std::exception& e) {
    log_error("serve: reload failed, still serving model version {}: {}", old_version, e.what());
    return Outcome::kFailed;
  }
}

std::string HotReload::incompatibility(const Processor& next) const {
  auto input_shape = [](const std::string& spec) -> std::string {
    if (spec.empty()) return "raw payloads";
    return data::DecoderSpec::parse(spec).format() + " with " +
           std::to_string(data::make_decoder(spec)->num_features()) + " feature(s) ('" + spec + "')";
  };
  auto input_key = [](const std::string& spec) -> std::string {
    if (spec.empty()) return "";
    return data::DecoderSpec::parse(spec).format() + "/" + std::to_string(data::make_decoder(spec)->num_features());
  };
  const std::string old_spec = processor_->decoder_spec();
  const std::string new_spec = next.decoder_spec();
  std::string why;
  if (input_key(old_spec) != input_key(new_spec)) {
    why = "inputs: serving " + input_shape(old_spec) + ", the new model reads " + input_shape(new_spec);
  }
  const std::string old_schema = processor_->output_schema();
  const std::string new_schema = next.output_schema();
  if (old_schema != new_schema) {
    why += (why.empty() ? "" : "; ") + std::string("outputs: serving '") + old_schema + "', the new model writes '" +
           new_schema + "'";
  }
  return why;
}

}  // namespace streamml::serve
