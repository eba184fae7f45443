// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "support/test_kafka.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>

#include "streamml/kafka/admin.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/producer.h"

namespace streamml::kafka {

void PrintTo(const ResolvedRange& range, std::ostream* os) { *os << range.to_string(); }
void PrintTo(const TopicPartitionOffset& tpo, std::ostream* os) {
  *os << tpo.topic << ":" << tpo.partition << "@" << tpo.offset;
}

}  // namespace streamml::kafka

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
  // Child processes (the CLI under test) then see an embedded cluster, as they
  // would with `streamml broker`: they can create topics and use its defaults.
  options.publish_control_socket = true;
  cluster_ = new kafka::EmbeddedCluster(options);
  bootstrap_ = cluster_->bootstrap_servers();
  // Remove the published socket when the test binary exits normally.
  std::atexit([] {
    TestKafka& self = TestKafka::get();
    delete self.cluster_;
    self.cluster_ = nullptr;
  });
}

std::string TestKafka::unique_name(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_) + "-" +
         std::to_string(rng() % 100000);
}

std::string TestKafka::create_topic(const std::string& prefix, int partitions) {
  std::string name = unique_name(prefix);
  kafka::Admin admin(config());
  admin.create_topics({kafka::NewTopic{name, partitions, 1, {}}});
  admin.wait_for_topic(name);
  return name;
}

kafka::Config TestKafka::config() const { return kafka::Config{{"bootstrap.servers", bootstrap_}}; }

kafka::Config TestKafka::consumer_config() const {
  kafka::Config config = this->config();
  config.set("fetch.wait.max.ms", "5");
  return config;
}

std::vector<ReadRecord> read_range(const std::string& topic, int32_t partition, int64_t start, int64_t end,
                                   std::chrono::milliseconds timeout) {
  std::vector<ReadRecord> out;
  if (end <= start) return out;
  kafka::Config config = TestKafka::get().consumer_config();
  config.set("auto.offset.reset", "error");  // never skip silently
  kafka::Consumer consumer(config);
  consumer.assign({{topic, partition, start}});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t next = start;
  while (next < end && std::chrono::steady_clock::now() < deadline) {
    for (auto& m : consumer.poll_batch(1000, std::chrono::milliseconds(100))) {
      if (m.is_eof()) continue;
      if (m.error()) {
        ADD_FAILURE() << "reading " << topic << ":" << partition << ": " << m.error().message();
        return out;
      }
      if (m.offset() < next || m.offset() >= end) continue;
      ReadRecord r;
      r.topic = m.topic();
      r.partition = m.partition();
      r.offset = m.offset();
      if (m.has_key()) r.key = std::string(m.key());
      r.value = std::string(m.value());
      r.headers = m.headers();
      r.timestamp_ms = m.timestamp_ms();
      out.push_back(std::move(r));
      next = m.offset() + 1;
    }
  }
  if (next < end) {
    ADD_FAILURE() << "reading " << topic << ":" << partition << " [" << start << "," << end << "): only got to offset "
                  << next << " within " << timeout.count() << " ms";
  }
  return out;
}

std::vector<ReadRecord> read_all(const std::string& topic, std::chrono::milliseconds timeout) {
  kafka::Admin admin(TestKafka::get().config());
  kafka::TopicInfo info = admin.describe_topic(topic);
  std::vector<ReadRecord> out;
  for (const auto& p : info.partitions) {
    auto part = read_range(topic, p.id, p.watermarks.low, p.watermarks.high, timeout);
    out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return out;
}

void produce_to(const std::string& topic, int32_t partition, const std::vector<std::string>& values,
                const std::vector<std::string>& keys) {
  kafka::Producer producer(TestKafka::get().config());
  for (size_t i = 0; i < values.size(); ++i) {
    kafka::ProduceRecord r;
    r.topic = topic;
    r.partition = partition;
    r.value = values[i];
    if (i < keys.size()) r.key = std::string_view(keys[i]);
    if (kafka::KafkaError err = producer.produce(r)) {
      ADD_FAILURE() << "producing value " << i << " to " << topic << ":" << partition << ": " << err.message();
      return;
    }
  }
  const kafka::FlushResult flushed = producer.flush();
  if (!flushed.ok() || producer.delivered_count() != static_cast<int64_t>(values.size())) {
    ADD_FAILURE() << topic << ":" << partition << ": " << producer.delivered_count() << " of " << values.size()
                  << " delivered, " << flushed.still_queued << " still queued, " << flushed.failed << " failed";
  }
}

kafka::Watermarks watermarks(const std::string& topic, int32_t partition) {
  kafka::Consumer consumer(TestKafka::get().consumer_config());
  return consumer.query_watermarks(topic, partition);
}

int32_t leader_of(const std::string& topic, int32_t partition) {
  kafka::Admin admin(TestKafka::get().config());
  for (const auto& p : admin.describe_topic(topic).partitions) {
    if (p.id == partition) return p.leader;
  }
  return -1;
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

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

CommandResult run_command_capture(const std::string& command, const std::string& input) {
  TempDir dir;
  std::string in_path = input.empty() ? std::string("/dev/null") : dir.write("stdin", input);
  std::string err_path = dir.path() + "/stderr";
  std::string full = "( " + command + " ) <" + shell_quote(in_path) + " 2>" + shell_quote(err_path);
  CommandResult result;
  const auto start = std::chrono::steady_clock::now();
  result.exit_code = run_command(full, &result.out);
  result.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  result.err = slurp(err_path);
  return result;
}

std::string cli_path() { return STREAMML_CLI_PATH; }

std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}


}  // namespace streamml::testing
