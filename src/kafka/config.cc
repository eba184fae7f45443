// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/config.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "streamml/common/error.h"

namespace streamml::kafka {
namespace {

// Validates one pair against librdkafka (global properties, or topic-level
// properties which librdkafka accepts on the global conf as defaults).
// `given` is the name as the caller wrote it, for the message.
void validate(std::string_view given, const std::string& key, std::string_view value) {
  if (key.empty()) throw ConfigError("empty Kafka property name");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  std::string v(value);
  rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key.c_str(), v.c_str(), errstr, sizeof errstr);
  rd_kafka_conf_destroy(conf);
  if (res != RD_KAFKA_CONF_OK) {
    throw ConfigError("invalid Kafka property '" + std::string(given) + "': " + errstr);
  }
}

// TensorFlow I/O's prefix for topic-level properties ("conf.topic.auto.offset.reset").
constexpr std::string_view kTfioTopicPrefix = "conf.topic.";
// librdkafka's prefix for topic-level properties on the global conf.
constexpr std::string_view kTopicPrefix = "topic.";

bool is_topic_property(const std::string& name) {
  rd_kafka_topic_conf_t* conf = rd_kafka_topic_conf_new();
  char value[512];
  size_t size = sizeof value;
  const bool known = rd_kafka_topic_conf_get(conf, name.c_str(), value, &size) != RD_KAFKA_CONF_UNKNOWN;
  rd_kafka_topic_conf_destroy(conf);
  return known;
}

// The one name a property is stored under: "topic.X" and "conf.topic.X" are
// X when X is a topic-level property (librdkafka reads "topic.X" as X, and
// TensorFlow I/O passes "conf.topic.X" to its topic conf as X). Global
// properties whose own name starts with "topic." (topic.metadata.*) stay.
std::string canonical_name(std::string_view key) {
  for (std::string_view prefix : {kTfioTopicPrefix, kTopicPrefix}) {
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) {
      std::string rest(key.substr(prefix.size()));
      if (prefix == kTfioTopicPrefix || is_topic_property(rest)) return rest;
    }
  }
  return std::string(key);
}

bool is_secret(const std::string& key) {
  return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
         key == "ssl.key.pem" || key == "sasl.oauthbearer.config";
}

}  // namespace

Config::Config(std::initializer_list<Entry> entries) {
  for (const auto& [key, value] : entries) set(key, value);
}

Config& Config::set(std::string_view given, std::string_view value) {
  const std::string key = canonical_name(given);
  validate(given, key, value);
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
  if (!contains(key)) set(key, value);  // contains() knows every name of the property
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

std::optional<std::string> Config::get(std::string_view given) const {
  const std::string key = canonical_name(given);
  for (const auto& entry : entries_) {
    if (entry.first == key) return entry.second;
  }
  return std::nullopt;
}

bool Config::contains(std::string_view key) const { return get(key).has_value(); }

void Config::erase(std::string_view given) {
  const std::string key = canonical_name(given);
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

std::string librdkafka_version() { return rd_kafka_version_str(); }

}  // namespace streamml::kafka
