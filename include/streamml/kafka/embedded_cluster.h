// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// EmbeddedCluster: a Kafka-protocol cluster of N brokers on loopback, built on
// librdkafka's mock cluster (rdkafka_mock.h). Any Kafka client (kcat,
// confluent-kafka, streamml itself) can reach it at bootstrap_servers().
//
// IMPORTANT limits of the mock cluster (librdkafka 2.0.2):
//  - Data is kept in memory only and each partition retains only about
//    5 MiB; older records are dropped and the log start moves forward.
//    Readers detect this (DataLossError) rather than skipping silently.
//  - A fetch is answered only when fetch.wait.max.ms expires; use ~1 ms
//    where latency matters (streamml's clients do so by default).
//  - Aborted transactional records are not filtered for read_committed.
//  - Topics are auto-created with 4 partitions on first use; create them
//    explicitly to choose the count.
//  - CreateTopics (Admin API) is not implemented; use create_topic() or
//    kafka::Admin, which knows how to reach embedded clusters.
//  - Metadata names controller id 0, which is no broker (brokers are
//    1..N), so other clients' admin requests fail ("Broker 0 not found").
//
// Fault hooks for tests: brokers down/up, round-trip time, injected request
// errors, partition leader moves, group coordinator moves.
//
// Thread-safety: all methods are safe to call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka {

// Kafka protocol API keys the fault hooks accept.
enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kInitProducerId = 22,
  kAddPartitionsToTxn = 24,
  kAddOffsetsToTxn = 25,
  kEndTxn = 26,
  kTxnOffsetCommit = 28,
};

struct EmbeddedClusterOptions {
  int brokers = 1;  // number of brokers (ids 1..N)
  // Publish a control socket so that other processes (streamml topics
  // create -b ...) can create topics on this cluster. Used by `streamml broker`.
  bool publish_control_socket = false;
};

class EmbeddedCluster {
 public:
  // Starts the cluster. Throws KafkaException when it cannot be created.
  explicit EmbeddedCluster(EmbeddedClusterOptions options = {});
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..."
  const std::string& bootstrap_servers() const;
  int num_brokers() const;
  std::vector<int32_t> broker_ids() const;

  // The most partitions one topic may have here: the mock allocates every
  // partition up front, each retaining up to ~5 MiB.
  static constexpr int kMaxPartitions = 1000;

  // Throws ConfigError naming the topic when `partitions` is outside
  // 1..kMaxPartitions or `replication_factor` outside 1..num_brokers(), and
  // KafkaException naming the topic on other failures.
  void create_topic(const std::string& name, int partitions, int replication_factor = 1);

  // Fault hooks.
  void broker_down(int32_t broker_id);
  void broker_up(int32_t broker_id);
  void set_round_trip_time(int32_t broker_id, milliseconds rtt);
  // The next requests of this API (any broker) fail with these errors in
  // order (rd_kafka_resp_err_t codes).
  void push_request_errors(ApiKey api, const std::vector<int>& errors);
  void clear_request_errors(ApiKey api);
  void set_partition_leader(const std::string& topic, int32_t partition, int32_t broker_id);
  void set_group_coordinator(const std::string& group, int32_t broker_id);

  // Path of the control socket, empty when not published.
  const std::string& control_socket_path() const;

  // The in-process cluster whose bootstrap list contains `address`
  // ("host:port"), or nullptr. Used by Admin.
  static EmbeddedCluster* find_in_process(const std::string& address);
  // The control socket published by a cluster (in any process on this
  // machine) listening on `address`, or "" when there is none.
  static std::string find_control_socket(const std::string& address);
  // True when any address of `bootstrap_servers` is an embedded cluster, in
  // this process or published by another (`streamml broker`).
  static bool is_embedded(const std::string& bootstrap_servers);
  // Consumer defaults the mock cluster needs, applied by Consumer when it
  // talks to an embedded cluster (only where the config does not set them):
  // fetch.wait.max.ms=1 (the mock answers a fetch only when this expires),
  // session.timeout.ms=6000, heartbeat.interval.ms=1000 and
  // max.poll.interval.ms=10000 (the mock waits this long for departed
  // members before it completes a rebalance).
  static void apply_consumer_defaults(Config& config);
  // Sends "create <topic> <partitions> <rf>" to a control socket.
  // Throws KafkaException with the cluster's answer on failure.
  static void create_topic_via_socket(const std::string& socket_path, const std::string& name,
                                      int partitions, int replication_factor);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamml::kafka
