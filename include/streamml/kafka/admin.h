// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Admin: create, list and describe topics. Topic creation goes through the
// Kafka Admin API (CreateTopics) against a real broker. librdkafka's mock
// cluster does not implement CreateTopics, so when the bootstrap address is an
// EmbeddedCluster, creation goes through the mock API instead: directly when
// the cluster lives in this process, or through the control socket that
// `streamml broker` publishes for its cluster (see embedded_cluster.h).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "streamml/kafka/handle.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka {

struct NewTopic {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  std::map<std::string, std::string> config;  // topic configs, e.g. retention.ms
};

struct PartitionInfo {
  int32_t id = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isrs;
  Watermarks watermarks;  // filled by describe_topic()
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
};

struct BrokerInfo {
  int32_t id = 0;
  std::string host;
  int port = 0;
};

class Admin {
 public:
  explicit Admin(Config config);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Creates the topics. Throws KafkaException naming the topic on failure
  // (already exists, invalid partition count, unreachable broker).
  void create_topics(const std::vector<NewTopic>& topics, milliseconds timeout = kDefaultTimeout);

  // Every topic (internal ones excluded unless asked), sorted by name.
  std::vector<TopicInfo> list_topics(milliseconds timeout = kDefaultTimeout,
                                     bool include_internal = false) const;
  // One topic with its partitions' watermarks. Throws KafkaException when it
  // does not exist.
  TopicInfo describe_topic(const std::string& name, milliseconds timeout = kDefaultTimeout) const;
  std::vector<BrokerInfo> brokers(milliseconds timeout = kDefaultTimeout) const;
  bool topic_exists(const std::string& name, milliseconds timeout = kDefaultTimeout) const;

  // Waits until metadata for the topic is visible and every partition has a leader.
  void wait_for_topic(const std::string& name, milliseconds timeout = kDefaultTimeout) const;

 private:
  Config config_;
  HandlePtr handle_;
};

}  // namespace streamml::kafka
