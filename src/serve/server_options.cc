// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/server_options.h"

#include <unistd.h>

#include <string>

#include "streamml/common/error.h"

namespace streamml::serve {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

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
  if (options.max_in_flight == 0) throw ConfigError("--max-in-flight: must be at least 1");
  if (options.busy_fetch && options.kafka.contains("fetch.wait.max.ms")) {
    throw ConfigError("--busy-fetch sets the consumer's fetch.wait.max.ms to 0: drop -X fetch.wait.max.ms=" +
                      options.kafka.get("fetch.wait.max.ms").value_or("") + ", or --busy-fetch");
  }
  if (options.metrics_port < 0 || options.metrics_port > 65535) {
    throw ConfigError("--metrics-port: must be in 1..65535 (0: off), got " + std::to_string(options.metrics_port));
  }
  if (options.instance_id.empty()) options.instance_id = host_name();
}

}  // namespace streamml::serve
