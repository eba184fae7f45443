// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml produce: one message per line from files or stdin, kcat-style. A
// missing topic is created by the cluster when it allows auto-creation.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "command.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/producer.h"

namespace streamml::cli {
namespace {

struct ProduceOptions {
  KafkaOptions kafka;
  std::string topic;
  int partition = -1;
  std::string key_delimiter;
  std::vector<std::string> headers;
  std::vector<std::string> files;
};

int run(ProduceOptions& o) {
  kafka::Headers headers;
  for (const auto& h : o.headers) {
    size_t eq = h.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("-H '" + h + "': expected name=value");
    headers.push_back({h.substr(0, eq), h.substr(eq + 1)});
  }
  // Open every input before producing anything: an unreadable file must not
  // leave the topic half-written.
  std::vector<std::unique_ptr<std::ifstream>> inputs;
  for (const auto& path : o.files) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw InputError("cannot read input file '" + path + "': it is a directory");
    errno = 0;
    auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*in) {
      throw InputError("cannot read input file '" + path + "': " +
                       (errno != 0 ? std::strerror(errno) : "cannot open it"));
    }
    inputs.push_back(std::move(in));
  }
  kafka::Config config = o.kafka.make_config();
  bool topic_exists = true;
  {
    // A missing topic is created by the cluster on the first record when it
    // allows auto-creation (README: "Topic auto-creation"), as for every
    // streamml producer and kcat.
    kafka::Admin admin(config);
    topic_exists = admin.topic_exists(o.topic, o.kafka.timeout());
    if (topic_exists) {
      kafka::TopicInfo info = admin.describe_topic(o.topic, o.kafka.timeout());
      if (o.partition >= static_cast<int>(info.partitions.size())) {
        throw ConfigError("-p " + std::to_string(o.partition) + ": topic '" + o.topic + "' has only " +
                          std::to_string(info.partitions.size()) + " partition(s)");
      }
    } else {
      log_info("topic '{}' does not exist: the cluster creates it if it allows auto-creation", o.topic);
    }
  }
  int64_t failures_reported = 0;
  kafka::Producer producer(config, [&](const kafka::DeliveryReport& r) {
    if (!r.error.ok() && failures_reported++ < 10) {
      log_error("message {} to {} not delivered: {}", r.opaque, o.topic, r.error.message());
    }
  });
  uint64_t sent = 0;
  auto produce_stream = [&](std::istream& in, const std::string& name) {
    std::string line;
    while (std::getline(in, line)) {
      kafka::ProduceRecord record;
      record.topic = o.topic;
      record.partition = o.partition;
      record.headers = headers;
      record.opaque = sent;
      std::string_view view(line);
      if (!o.key_delimiter.empty()) {
        size_t pos = view.find(o.key_delimiter);
        if (pos != std::string_view::npos) {
          record.key = view.substr(0, pos);
          view = view.substr(pos + o.key_delimiter.size());
        }
      }
      record.value = view;
      kafka::KafkaError err = producer.produce(record);
      if (!err.ok()) throw kafka::KafkaException(err.code(), "producing line " + std::to_string(sent + 1) + ": " + err.message());
      ++sent;
      producer.poll();
    }
    if (in.bad()) {
      throw InputError("error reading " + name + " after line " + std::to_string(sent) + ": " +
                       (errno != 0 ? std::strerror(errno) : "read failed"));
    }
  };
  if (inputs.empty()) {
    produce_stream(std::cin, "standard input");
  } else {
    for (size_t i = 0; i < inputs.size(); ++i) produce_stream(*inputs[i], "input file '" + o.files[i] + "'");
  }
  kafka::FlushResult flushed = producer.flush(std::max(o.kafka.timeout(), kafka::kDefaultFlushTimeout));
  int64_t delivered = producer.delivered_count();
  // Status, not data: stderr (stdout stays empty, as with kcat).
  std::fprintf(stderr, "delivered %lld of %llu message(s) to %s\n", static_cast<long long>(delivered),
              static_cast<unsigned long long>(sent), o.topic.c_str());
  if (!flushed.ok() || delivered != static_cast<int64_t>(sent)) {
    std::fprintf(stderr, "streamml: error: %lld message(s) not delivered (%lld failed, %lld still queued)\n",
                 static_cast<long long>(sent - delivered), static_cast<long long>(flushed.failed),
                 static_cast<long long>(flushed.still_queued));
    if (!topic_exists && !kafka::Admin(config).topic_exists(o.topic, o.kafka.timeout())) {
      std::fprintf(stderr,
                   "streamml: error: topic '%s' does not exist and the cluster did not create it (the broker's "
                   "auto.create.topics.enable is off); create it with 'streamml topics create'\n",
                   o.topic.c_str());
    }
    return kExitFailure;
  }
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<ProduceOptions>();
  o->kafka.add_to(sub);
  sub.add_option("-t,--topic", o->topic, "Topic")->required();
  sub.add_option("-p,--partition", o->partition, "Partition (default: the partitioner)")->check(CLI::NonNegativeNumber);
  sub.add_option("-K", o->key_delimiter, "Split key and value at the first occurrence of this delimiter");
  sub.add_option("-H", o->headers, "Header name=value (repeatable)")
      ->allow_extra_args(false);  // one value per -H: never swallow input files
  sub.add_option("files", o->files, "Input files (default: stdin), one message per line");
  set_examples(sub, {"streamml produce -b localhost:9092 -t events lines.txt",
                     "streamml produce -b localhost:9092 -t events -p 0 -K : -H source=demo keyed.txt"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("produce", "Produce one message per line from files or stdin", 30, setup);

}  // namespace streamml::cli
