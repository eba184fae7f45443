// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The Kafka every integration test talks to: the broker named by
// STREAMML_TEST_BOOTSTRAP=host:port when set, otherwise an embedded cluster
// started in this process (3 brokers, publishing its control socket so that
// child processes can create topics on it). Topic names are unique per test so
// tests never see each other's data, on either kind of broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "support/temp_dir.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/range_spec.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka {
// Readable GoogleTest output for Kafka values.
void PrintTo(const ResolvedRange& range, std::ostream* os);
void PrintTo(const TopicPartitionOffset& tpo, std::ostream* os);
}  // namespace streamml::kafka

namespace streamml::testing {

class TestKafka {
 public:
  // The process-wide instance (created on first use).
  static TestKafka& get();

  const std::string& bootstrap() const { return bootstrap_; }
  // True when tests run against STREAMML_TEST_BOOTSTRAP.
  bool external() const { return cluster_ == nullptr; }
  // The embedded cluster, or nullptr when external(). Fault-injection tests
  // GTEST_SKIP() when it is null.
  kafka::EmbeddedCluster* embedded() const { return cluster_; }

  // "<prefix>-<pid>-<counter>-<random>".
  std::string unique_name(const std::string& prefix);
  // Creates a topic with a unique name and returns the name.
  std::string create_topic(const std::string& prefix, int partitions);
  // A Config with bootstrap.servers set, for producers and admin clients.
  kafka::Config config() const;
  // config() plus low-latency fetch settings, for consumers.
  kafka::Config consumer_config() const;

 private:
  TestKafka();
  std::string bootstrap_;
  kafka::EmbeddedCluster* cluster_ = nullptr;  // owned; destroyed at exit (removes its control socket)
  int counter_ = 0;
};

// One record read back by read_range(), copied out of its Message.
struct ReadRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;  // nullopt: null key
  std::string value;
  kafka::Headers headers;
  int64_t timestamp_ms = -1;
};

// Reads offsets [start, end) of one partition with an assigned consumer.
// Fails the current test (ADD_FAILURE) when the records do not all arrive
// within `timeout`, or when a consumer error is reported; returns what arrived.
std::vector<ReadRecord> read_range(const std::string& topic, int32_t partition, int64_t start, int64_t end,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));
// Every record of every partition of `topic`, from the low to the high
// watermark, in (partition, offset) order.
std::vector<ReadRecord> read_all(const std::string& topic,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60));
// Produces `values` (with `keys`, when given: one per value) to one partition
// of `topic` (-1: the partitioner's choice), in order, and flushes. Fails the
// current test (ADD_FAILURE) when one is refused or not delivered.
void produce_to(const std::string& topic, int32_t partition, const std::vector<std::string>& values,
                const std::vector<std::string>& keys = {});
// Low/high watermarks of one partition.
kafka::Watermarks watermarks(const std::string& topic, int32_t partition);
// The broker id leading `partition`, from metadata.
int32_t leader_of(const std::string& topic, int32_t partition);

// Runs a shell command, returns its exit status; stdout captured into `out`.
int run_command(const std::string& command, std::string* out = nullptr);

// What a finished command produced.
struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
  std::chrono::milliseconds elapsed{0};
};
// Runs `command` through /bin/sh with stdin from `input` (empty: /dev/null),
// capturing stdout and stderr separately.
CommandResult run_command_capture(const std::string& command, const std::string& input = {});

// Path of the built streamml CLI.
std::string cli_path();

// Quotes `arg` for /bin/sh.
std::string shell_quote(const std::string& arg);


}  // namespace streamml::testing
