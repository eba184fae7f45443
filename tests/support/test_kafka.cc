// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "support/test_kafka.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sys/wait.h>

#include "streamml/kafka/admin.h"

namespace streamml::testing {

TestKafka& TestKafka::get() {
  static TestKafka* instance = new TestKafka();
  return *instance;
}

TestKafka::TestKafka() {
  const char* env = std::getenv("STREAMML_TEST_BOOTSTRAP");
  if (env != nullptr && *env != '\0') {
    bootstrap_ = env;
    return;
  }
  kafka::EmbeddedClusterOptions options;
  options.brokers = 3;
  cluster_ = new kafka::EmbeddedCluster(options);
  bootstrap_ = cluster_->bootstrap_servers();
}

std::string TestKafka::unique_name(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_) + "-" +
         std::to_string(rng() % 100000);
}

std::string TestKafka::create_topic(const std::string& prefix, int partitions) {
  std::string name = unique_name(prefix);
  kafka::Admin admin(config());
  admin.create_topics({kafka::NewTopic{name, partitions, external() ? 1 : 1, {}}});
  admin.wait_for_topic(name);
  return name;
}

kafka::Config TestKafka::config() const {
  // Consumers pick low-latency defaults themselves on the embedded cluster.
  return kafka::Config{{"bootstrap.servers", bootstrap_}};
}

int run_command(const std::string& command, std::string* out) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    if (out != nullptr) out->append(buffer.data(), n);
  }
  int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string cli_path() { return STREAMML_CLI_PATH; }

}  // namespace streamml::testing
