// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/config.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "streamml/common/error.h"

namespace streamml::kafka {
namespace {

// Validates one pair against librdkafka (global properties, or topic-level
// properties which librdkafka accepts on the global conf as defaults).
void validate(std::string_view key, std::string_view value) {
  if (key.empty()) throw ConfigError("empty Kafka property name");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  std::string k(key), v(value);
  rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr);
  rd_kafka_conf_destroy(conf);
  if (res != RD_KAFKA_CONF_OK) {
    throw ConfigError("invalid Kafka property '" + k + "': " + errstr);
  }
}

bool is_secret(const std::string& key) {
  return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
         key == "ssl.key.pem" || key == "sasl.oauthbearer.config";
}

}  // namespace

Config::Config(std::initializer_list<Entry> entries) {
  for (const auto& [key, value] : entries) set(key, value);
}

Config& Config::set(std::string_view key, std::string_view value) {
  validate(key, value);
  for (auto& entry : entries_) {
    if (entry.first == key) {
      entry.second = std::string(value);
      return *this;
    }
  }
  entries_.emplace_back(std::string(key), std::string(value));
  return *this;
}

Config& Config::set_default(std::string_view key, std::string_view value) {
  if (!contains(key)) set(key, value);
  return *this;
}

Config& Config::set_property(std::string_view key_equals_value) {
  size_t eq = key_equals_value.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw ConfigError("invalid property '" + std::string(key_equals_value) +
                      "': expected key=value (for example -X fetch.wait.max.ms=1)");
  }
  return set(key_equals_value.substr(0, eq), key_equals_value.substr(eq + 1));
}

std::optional<std::string> Config::get(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.first == key) return entry.second;
  }
  return std::nullopt;
}

bool Config::contains(std::string_view key) const { return get(key).has_value(); }

void Config::erase(std::string_view key) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.first == key; }),
                 entries_.end());
}

std::string Config::to_string() const {
  std::string out;
  for (const auto& [key, value] : entries_) {
    if (!out.empty()) out += ", ";
    out += key + "=" + (is_secret(key) ? std::string("***") : value);
  }
  return out;
}

}  // namespace streamml::kafka
