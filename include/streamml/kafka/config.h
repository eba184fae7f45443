// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// librdkafka configuration as a copyable value: {key, value} pairs with the
// names users know from Kafka ("bootstrap.servers", "group.id", ...). Every
// pair is validated against librdkafka when it is set, so an unknown key or a
// bad value fails early with a ConfigError naming the key and librdkafka's
// reason.
//
// A topic-level property has one name here whatever prefix it is given with:
// librdkafka's "topic.auto.offset.reset" and TensorFlow I/O's
// "conf.topic.auto.offset.reset" are stored, looked up, defaulted and erased
// as "auto.offset.reset". Global properties whose name starts with "topic."
// (topic.metadata.refresh.interval.ms) keep it. Not thread-safe for concurrent mutation; copies are independent.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamml::kafka {

// The version of librdkafka this process runs with, e.g. "2.0.2".
std::string librdkafka_version();

class Config {
 public:
  using Entry = std::pair<std::string, std::string>;

  Config() = default;
  // Throws ConfigError for the first invalid pair.
  Config(std::initializer_list<Entry> entries);

  // Sets (or replaces) a property. Throws ConfigError naming the key and
  // librdkafka's reason when the key is unknown or the value invalid.
  Config& set(std::string_view key, std::string_view value);

  // Sets a property only when it has not been set yet, under any of its names.
  Config& set_default(std::string_view key, std::string_view value);

  // Sets "key=value" as given to `-X` on the command line.
  // Throws ConfigError when there is no '=' or the key is empty.
  Config& set_property(std::string_view key_equals_value);

  std::optional<std::string> get(std::string_view key) const;
  bool contains(std::string_view key) const;
  void erase(std::string_view key);

  // In insertion order.
  const std::vector<Entry>& entries() const { return entries_; }

  // "key=value, ..." with secrets (password, secret, key in sasl/ssl) masked.
  std::string to_string() const;

 private:
  std::vector<Entry> entries_;
};

// Names of the default timeouts used across the Kafka layer.
}  // namespace streamml::kafka
