// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml topics list|create|describe
#include <fmt/format.h>

#include <cstdio>

#include "cli_common.h"
#include "command.h"
#include "streamml/common/error.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/embedded_cluster.h"

namespace streamml::cli {
namespace {

constexpr int kMaxPartitions = 100000;
constexpr int kMaxReplication = 10000;

std::string join(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

struct TopicsOptions {
  KafkaOptions kafka;
  std::vector<std::string> names;
  int partitions = 1;
  int replication = 1;
  std::vector<std::string> configs;
};

int run_list(TopicsOptions& o) {
  kafka::Admin admin(o.kafka.make_config());
  for (const auto& t : admin.list_topics(o.kafka.timeout())) {
    std::printf("%s\t%zu\n", t.name.c_str(), t.partitions.size());
  }
  return kExitOk;
}

int run_create(TopicsOptions& o) {
  std::vector<kafka::NewTopic> topics;
  for (const auto& name : o.names) {
    kafka::NewTopic t{name, o.partitions, o.replication, {}};
    for (const auto& kv : o.configs) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw ConfigError("--config '" + kv + "': expected key=value");
      t.config[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    topics.push_back(std::move(t));
  }
  if (o.kafka.brokers == "embedded" || kafka::EmbeddedCluster::is_embedded(o.kafka.brokers)) {
    if (o.partitions > kafka::EmbeddedCluster::kMaxPartitions) {
      throw ConfigError("-p " + std::to_string(o.partitions) + ": the embedded cluster allows at most " +
                        std::to_string(kafka::EmbeddedCluster::kMaxPartitions) + " partitions per topic");
    }
  }
  kafka::Admin admin(o.kafka.make_config());
  admin.create_topics(topics, o.kafka.timeout());
  for (const auto& t : topics) {
    admin.wait_for_topic(t.name, o.kafka.timeout());
    std::printf("created %s (%d partition(s), replication %d)\n", t.name.c_str(), t.partitions, t.replication_factor);
  }
  return kExitOk;
}

int run_describe(TopicsOptions& o) {
  kafka::Admin admin(o.kafka.make_config());
  for (const auto& name : o.names) {
    kafka::TopicInfo info = admin.describe_topic(name, o.kafka.timeout());
    std::printf("topic %s: %zu partition(s)\n", info.name.c_str(), info.partitions.size());
    for (const auto& p : info.partitions) {
      // Inclusive, as the SPEC grammar (t:0:0:4 is offsets 0..4); an empty
      // partition has no first and last offset, only the next one.
      const long long low = p.watermarks.low, high = p.watermarks.high;
      const std::string offsets = high > low ? fmt::format("offsets {}..{} ({} records)", low, high - 1, high - low)
                                             : fmt::format("no records (next offset {})", high);
      std::printf("  partition %d  leader %d  replicas [%s]  isr [%s]  %s\n", p.id, p.leader, join(p.replicas).c_str(),
                  join(p.isrs).c_str(), offsets.c_str());
    }
  }
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<TopicsOptions>();
  sub.require_subcommand(1);
  CLI::App* list = sub.add_subcommand("list", "List topics and their partition counts");
  o->kafka.add_to(*list);
  CLI::App* create = sub.add_subcommand("create", "Create topics");
  o->kafka.add_to(*create);
  create->add_option("names", o->names, "Topic names")->required();
  // Kafka's CreateTopics bounds (librdkafka checks the same); the embedded
  // cluster allows fewer partitions (EmbeddedCluster::kMaxPartitions).
  create->add_option("-p,--partitions", o->partitions, "Partitions")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxPartitions));
  create->add_option("-r,--replication", o->replication, "Replication factor")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxReplication));
  create->add_option("--config", o->configs, "Topic config key=value (repeatable)")
      ->allow_extra_args(false);  // one value per --config: never swallow topic names
  CLI::App* describe = sub.add_subcommand("describe", "Describe topics: partitions, leaders, offsets");
  o->kafka.add_to(*describe);
  describe->add_option("names", o->names, "Topic names")->required();
  set_examples(sub, {"streamml topics list -b localhost:9092", "streamml topics create -b localhost:9092 -p 3 events",
                     "streamml topics describe -b localhost:9092 events"});
  set_examples(*list, {"streamml topics list -b localhost:9092", "streamml topics list -b embedded"});
  set_examples(*create, {"streamml topics create -b localhost:9092 -p 3 events",
                         "streamml topics create -b localhost:9092 -p 6 -r 3 --config retention.ms=86400000 events"});
  set_examples(*describe, {"streamml topics describe -b localhost:9092 events",
                           "streamml topics describe -b localhost:9092 events clicks"});
  return [o, list, create, describe] {
    if (list->parsed()) return run_list(*o);
    if (create->parsed()) return run_create(*o);
    if (describe->parsed()) return run_describe(*o);
    return kExitUsage;
  };
}

}  // namespace

STREAMML_REGISTER_COMMAND("topics", "List, create and describe topics", 20, setup);

}  // namespace streamml::cli
