// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/server_options.h"

#include <unistd.h>

#include <charconv>
#include <string>

#include "streamml/common/error.h"

namespace streamml::serve {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// A positive integer property of `config`, or `fallback` (librdkafka's
// default) when it is not set.
size_t size_property(const kafka::Config& config, const char* key, size_t fallback) {
  const std::optional<std::string> text = config.get(key);
  if (!text) return fallback;
  size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value == 0) {
    throw ConfigError("-X " + std::string(key) + "=" + *text + ": expected a positive integer");
  }
  return value;
}

// librdkafka's defaults (CONFIGURATION.md, 2.0).
constexpr size_t kLibrdkafkaQueueMessages = 100000;
// serve's default for its producer's queue: 64 MiB of outputs (librdkafka's
// own, 1 GiB, would let a slow broker pile up that much memory).
constexpr const char* kServeQueueKbytes = "65536";

}  // namespace

kafka::Config output_producer_config(const ServerOptions& o) {
  kafka::Config c = o.kafka;
  c.set_default("linger.ms", "1");  // low latency; micro-batches still fill produce requests
  c.set_default("queue.buffering.max.kbytes", kServeQueueKbytes);
  return c;
}

InFlightLimit in_flight_limit(const ServerOptions& o, const kafka::Config& producer) {
  InFlightLimit limit;
  limit.records = o.max_in_flight > 0
                      ? o.max_in_flight
                      : size_property(producer, "queue.buffering.max.messages", kLibrdkafkaQueueMessages);
  limit.bytes = size_property(producer, "queue.buffering.max.kbytes", 1048576) * 1024 / 2;
  return limit;
}

kafka::Config consumer_config(const ServerOptions& o) {
  // Manual commits only; read committed outputs of upstream transactions.
  // Low-latency fetch defaults for the embedded cluster are applied by
  // kafka::Consumer.
  kafka::Config c = o.kafka;
  c.set("group.id", o.group);
  c.set("enable.auto.commit", "false");
  c.set_default("auto.offset.reset", "earliest");
  c.set_default("isolation.level", "read_committed");
  if (o.busy_fetch) c.set("fetch.wait.max.ms", "0");
  return c;
}

void validate(ServerOptions& options) {
  if (options.input_topics.empty()) throw ConfigError("--input: at least one input topic is required");
  for (const auto& t : options.input_topics) {
    if (t.empty()) throw ConfigError("--input: empty topic name");
    if (t == options.output_topic) throw ConfigError("--output: must differ from the input topic '" + t + "'");
  }
  if (options.output_topic.empty()) throw ConfigError("--output: an output topic is required");
  if (options.group.empty()) throw ConfigError("-G/--group: a consumer group is required");
  if (options.max_batch == 0) throw ConfigError("--max-batch: must be at least 1");
  if (options.max_wait_us < 0) throw ConfigError("--max-wait-us: must be >= 0");
  if (options.busy_fetch && options.kafka.contains("fetch.wait.max.ms")) {
    throw ConfigError("--busy-fetch sets the consumer's fetch.wait.max.ms to 0: drop -X fetch.wait.max.ms=" +
                      options.kafka.get("fetch.wait.max.ms").value_or("") + ", or --busy-fetch");
  }
  if (options.metrics_port < 0 || options.metrics_port > 65535) {
    throw ConfigError("--metrics-port: must be in 1..65535 (0: off), got " + std::to_string(options.metrics_port));
  }
  (void)in_flight_limit(options, output_producer_config(options));  // its queue properties are numbers
  if (options.instance_id.empty()) options.instance_id = host_name();
}

}  // namespace streamml::serve
