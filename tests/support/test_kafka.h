// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The Kafka every integration test talks to: the broker named by
// STREAMML_TEST_BOOTSTRAP=host:port when set, otherwise an embedded cluster
// started in this process (3 brokers). Topic names are unique per test so
// tests never see each other's data, on either kind of broker.
#pragma once

#include <string>

#include "streamml/kafka/config.h"
#include "streamml/kafka/embedded_cluster.h"

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
  // A Config with bootstrap.servers set (and low-latency fetch defaults).
  kafka::Config config() const;

 private:
  TestKafka();
  std::string bootstrap_;
  kafka::EmbeddedCluster* cluster_ = nullptr;  // owned, never destroyed (process lifetime)
  int counter_ = 0;
};

// Runs a shell command, returns its exit status; stdout captured into `out`.
int run_command(const std::string& command, std::string* out = nullptr);

// Path of the built streamml CLI.
std::string cli_path();

}  // namespace streamml::testing
