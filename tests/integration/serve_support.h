// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the serve integration tests: produce CSV rows, read every
// output of a topic, read a group's committed offsets, temp dirs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "serve_core_support.h"  // wait_for
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "streamml/serve/model_processor.h"
#include "streamml/serve/server.h"
#include "support/test_kafka.h"
#include "unit/serve/test_model.h"

namespace streamml::testing {

// One consumed output with its headers decoded.
struct Output {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<none>") : it->second;
  }
  int64_t source_offset() const { return std::stoll(header("streamml.source.offset")); }
  int32_t source_partition() const { return std::stoi(header("streamml.source.partition")); }
};

// Produces serve_row(i) for i in [from, to) with key "k<i>" to partition
// i % partitions, or the given payloads.
inline void produce_rows(const std::string& topic, int from, int to, int partitions) {
  kafka::Producer producer(TestKafka::get().config());
  for (int i = from; i < to; ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value = serve_row(i);
    kafka::ProduceRecord r;
    r.topic = topic;
    r.partition = i % partitions;
    r.key = std::string_view(key);
    r.value = value;
    ASSERT_TRUE(producer.produce(r).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
}

inline void produce_values(const std::string& topic, const std::vector<std::string>& values, int partition) {
  kafka::Producer producer(TestKafka::get().config());
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string key = "v" + std::to_string(i);
    kafka::ProduceRecord r;
    r.topic = topic;
    r.partition = partition;
    r.key = std::string_view(key);
    r.value = values[i];
    ASSERT_TRUE(producer.produce(r).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
}

// Reads a topic from the beginning until `until(outputs)` holds or the
// timeout expires (read_committed).
class OutputReader {
 public:
  OutputReader(const std::string& topic, int partitions) {
    kafka::Config c = TestKafka::get().config();
    consumer_ = std::make_unique<kafka::Consumer>(c);
    std::vector<kafka::TopicPartitionOffset> parts;
    for (int p = 0; p < partitions; ++p) parts.push_back({topic, p, kafka::kOffsetBeginning});
    consumer_->assign(parts);
  }
  const std::vector<Output>& read_until(const std::function<bool(const std::vector<Output>&)>& until,
                                        std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!until(outputs_) && std::chrono::steady_clock::now() < deadline) {
      for (auto& m : consumer_->poll_batch(1000, kafka::milliseconds(50))) {
        if (m.error()) continue;
        Output o;
        o.partition = m.partition();
        o.offset = m.offset();
        if (m.has_key()) o.key = std::string(m.key());
        o.value = std::string(m.value());
        for (const auto& h : m.headers()) o.headers[h.name] = h.value.value_or("");
        outputs_.push_back(std::move(o));
      }
    }
    return outputs_;
  }
  const std::vector<Output>& read_at_least(size_t n, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return read_until([n](const std::vector<Output>& o) { return o.size() >= n; }, timeout);
  }
  const std::vector<Output>& outputs() const { return outputs_; }

 private:
  std::unique_ptr<kafka::Consumer> consumer_;
  std::vector<Output> outputs_;
};

// The group's committed next-offsets for partitions 0..partitions-1.
inline std::vector<int64_t> committed_offsets(const std::string& group, const std::string& topic, int partitions) {
  kafka::Config c = TestKafka::get().config();
  c.set("group.id", group);
  kafka::Consumer consumer(c);
  std::vector<kafka::TopicPartition> parts;
  for (int p = 0; p < partitions; ++p) parts.push_back({topic, p});
  std::vector<int64_t> out(static_cast<size_t>(partitions), -1);
  for (const auto& tpo : consumer.committed(parts)) out[static_cast<size_t>(tpo.partition)] = tpo.offset;
  return out;
}


// Runs a serve::Server with the model processor on its own thread; stops and
// joins it on destruction.
class ServerThread {
 public:
  ServerThread(serve::ServerOptions options, const std::string& model_path)
      : server_(std::move(options),
                serve::model_processor_factory({model_path, serve::OutputFormat::kJson, ""})) {
    thread_ = std::thread([this] {
      try {
        server_.run();
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    });
  }
  ~ServerThread() { stop(); }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  serve::Server& server() { return server_; }
  // What run() threw ("" if nothing); read it only after stop().
  const std::string& error() const { return error_; }

 private:
  serve::Server server_;
  std::thread thread_;
  std::string error_;
};

}  // namespace streamml::testing
