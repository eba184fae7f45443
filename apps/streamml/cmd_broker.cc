// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml broker: runs an embedded Kafka cluster on loopback until SIGINT or
// SIGTERM. Any Kafka client can reach it at the printed bootstrap.servers.
// In-memory, about 5 MiB retained per partition (see embedded_cluster.h).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "cli_common.h"
#include "command.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/embedded_cluster.h"

namespace streamml::cli {
namespace {

struct BrokerOptions {
  int brokers = 1;
  std::vector<std::string> topics;  // NAME[:PARTITIONS]
  std::string bootstrap_file;
};

int run(const BrokerOptions& options) {
  // Validate topic specs before starting anything.
  std::vector<std::pair<std::string, int>> topics;
  for (const auto& spec : options.topics) {
    size_t colon = spec.find(':');
    std::string name = spec.substr(0, colon);
    int partitions = 1;
    if (colon != std::string::npos) {
      try {
        size_t used = 0;
        partitions = std::stoi(spec.substr(colon + 1), &used);
        if (used != spec.size() - colon - 1) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw ConfigError("--topic '" + spec + "': expected NAME[:PARTITIONS]");
      }
    }
    if (name.empty() || partitions < 1) throw ConfigError("--topic '" + spec + "': expected NAME[:PARTITIONS]");
    if (partitions > kafka::EmbeddedCluster::kMaxPartitions) {
      throw ConfigError("--topic '" + spec + "': at most " + std::to_string(kafka::EmbeddedCluster::kMaxPartitions) +
                        " partitions per topic on the embedded cluster");
    }
    topics.emplace_back(name, partitions);
  }
  install_stop_signals();
  kafka::EmbeddedClusterOptions cluster_options;
  cluster_options.brokers = options.brokers;
  cluster_options.publish_control_socket = true;
  kafka::EmbeddedCluster cluster(cluster_options);
  for (const auto& [name, partitions] : topics) cluster.create_topic(name, partitions, 1);

  const std::string& bootstrap = cluster.bootstrap_servers();
  if (!options.bootstrap_file.empty()) {
    std::string tmp = options.bootstrap_file + ".tmp";
    std::ofstream out(tmp);
    out << bootstrap << "\n";
    out.close();
    if (!out || std::rename(tmp.c_str(), options.bootstrap_file.c_str()) != 0) {
      throw InputError("cannot write --bootstrap-file '" + options.bootstrap_file + "'");
    }
  }
  std::printf("%s\n", bootstrap.c_str());
  std::fflush(stdout);
  log_info("embedded Kafka cluster: {} broker(s) at {} (in memory, ~5 MiB retained per partition); "
           "Ctrl-C to stop",
           options.brokers, bootstrap);
  while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log_info("stopping the embedded cluster");
  if (!options.bootstrap_file.empty()) std::remove(options.bootstrap_file.c_str());
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto options = std::make_shared<BrokerOptions>();
  sub.add_option("--brokers", options->brokers, "Number of brokers")->capture_default_str()->check(CLI::Range(1, 16));
  sub.add_option("--topic", options->topics, "Create topic NAME[:PARTITIONS] at start (repeatable)")
      ->allow_extra_args(false);
  sub.add_option("--bootstrap-file", options->bootstrap_file, "Write bootstrap.servers to this file when ready");
  sub.footer(
      "Limits (librdkafka 2.0.2's mock cluster): in memory, ~5 MiB retained per partition, at most " +
      std::to_string(kafka::EmbeddedCluster::kMaxPartitions) +
      " partitions per topic. Its metadata names controller id 0, a broker that does not exist (brokers are "
      "1..N), and it does not implement CreateTopics: admin requests of other clients fail (KafkaJS createTopics: "
      "\"Broker 0 not found\"). Create topics with --topic or `streamml topics create`, or let a producer "
      "auto-create them (4 partitions).");
  set_examples(sub, {"streamml broker --topic events:3 --bootstrap-file bootstrap.txt",
                       "streamml broker --brokers 3 --topic events:6 --topic clicks"});
  return [options] { return run(*options); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("broker", "Run an embedded Kafka cluster on loopback until SIGINT/SIGTERM", 10, setup);

}  // namespace streamml::cli
