// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The serving loop with a LibTorch-free processor: this binary
// (integration_serve_core) links no LibTorch, so ThreadSanitizer checks the
// server's threads (serving loop, metrics HTTP server, metrics logger, stop,
// reload and stats from other threads) in scripts/sanitize.sh tsan.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "streamml/kafka/producer.h"
#include "streamml/serve/server.h"
#include "support/free_port.h"
#include "support/test_kafka.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::ReadRecord;
using testing::TestKafka;
using testing::read_all;

// Echoes each payload as "<version>:<payload>"; rejects payloads starting
// with "bad".
class EchoProcessor : public Processor {
 public:
  explicit EchoProcessor(std::string version) : version_(std::move(version)) {}
  std::string decoder_spec() const override { return ""; }
  void process(const data::Batch& batch, std::vector<ProcessResult>& results) override {
    for (size_t i = 0; i < batch.size; ++i) {
      const std::string& payload = batch.payloads[i];
      ProcessResult r;
      if (payload.rfind("bad", 0) == 0) {
        r.error = "echo rejects '" + payload + "'";
      } else {
        r.output = OutputRecord{std::nullopt, "echo:" + payload, {}};
      }
      results.push_back(std::move(r));
    }
  }
  std::string version() const override { return version_; }

 private:
  std::string version_;
};

bool wait_for(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// Runs server.run() on a new thread; an exception fails the test.
std::thread serve_in_background(Server& server) {
  return std::thread([&server] {
    try {
      server.run();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "run() threw: " << e.what();
    }
  });
}

TEST(ServeCoreServer, ServesEveryRecordWhileOtherThreadsReloadAndReadStatsAndMetrics) {
  constexpr int kPartitions = 3, kRecords = 300;
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-core-in", kPartitions);
  const std::string out = kafka.create_topic("serve-core-out", kPartitions);
  const std::string dead = kafka.create_topic("serve-core-dlq", 1);
  {
    kafka::Producer producer(kafka.config());
    for (int i = 0; i < kRecords; ++i) {
      const std::string value = (i % 10 == 0 ? "bad-" : "row-") + std::to_string(i);
      kafka::ProduceRecord r;
      r.topic = in;
      r.partition = i % kPartitions;
      r.value = value;
      ASSERT_TRUE(producer.produce(r).ok());
    }
    ASSERT_TRUE(producer.flush().ok());
  }

  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = kafka.unique_name("serve-core-group");
  o.dead_letter_topic = dead;
  o.max_batch = 16;
  o.max_wait_us = 2000;
  o.metrics_interval_ms = 50;  // the metrics logger runs too
  o.metrics_port = testing::free_port();
  o.metrics_host = "127.0.0.1";
  o.kafka = kafka.config();
  std::atomic<int> built{0};
  Server server(o, [&built] { return std::make_unique<EchoProcessor>("v" + std::to_string(++built)); });
  std::string error;
  std::thread loop([&] {
    try {
      server.run();
    } catch (const std::exception& e) {
      error = e.what();
    }
  });

  // Readers and reloads from other threads while the loop serves.
  std::atomic<bool> done{false};
  std::thread other([&] {
    httplib::Client http("127.0.0.1", o.metrics_port);
    http.set_connection_timeout(1);
    int round = 0;
    while (!done) {
      (void)server.stats();
      (void)server.metrics_text();
      if (++round % 10 == 0) server.reload();
      if (round % 25 == 0) (void)http.Get("/metrics");
      std::this_thread::sleep_for(5ms);
    }
  });
  const uint64_t kGood = kRecords - kRecords / 10;
  const bool served = wait_for([&] { return server.stats().records_out == kGood; }, 180s);
  done = true;
  other.join();
  server.stop();
  loop.join();
  ASSERT_TRUE(served) << "records_out " << server.stats().records_out << " of " << kGood << "; run(): " << error;
  EXPECT_EQ(error, "");

  const ServerStats stats = server.stats();
  EXPECT_EQ(stats.records_in, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(stats.records_received, stats.records_in);  // each record taken once, and all of them settled
  EXPECT_EQ(stats.records_in_flight, 0u);
  EXPECT_EQ(stats.rejected, static_cast<uint64_t>(kRecords / 10));
  EXPECT_EQ(stats.dead_lettered, static_cast<uint64_t>(kRecords / 10));
  EXPECT_GE(stats.reloads, 1u);
  EXPECT_FALSE(stats.running);

  std::set<std::string> values;
  for (const ReadRecord& r : read_all(out)) {
    EXPECT_EQ(r.value.rfind("echo:row-", 0), 0u) << r.value;
    EXPECT_TRUE(values.insert(r.value).second) << "duplicate output " << r.value;
  }
  EXPECT_EQ(values.size(), kGood);
  EXPECT_EQ(read_all(dead).size(), static_cast<size_t>(kRecords / 10));
}

TEST(ServeCoreServer, AcknowledgementHookSeesEveryServedInputOnce) {
  constexpr int kPartitions = 2, kRecords = 80;
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-ack-in", kPartitions);
  const std::string out = kafka.create_topic("serve-ack-out", kPartitions);
  std::set<std::pair<int32_t, int64_t>> expected;  // (partition, offset) of the inputs that get an output
  {
    kafka::Producer producer(kafka.config());
    for (int i = 0; i < kRecords; ++i) {
      const std::string value = (i % 8 == 0 ? "bad-" : "row-") + std::to_string(i);
      kafka::ProduceRecord r;
      r.topic = in;
      r.partition = i % kPartitions;
      r.value = value;
      ASSERT_TRUE(producer.produce(r).ok());
      // Offsets within a partition follow the order of produce calls.
      if (i % 8 != 0) expected.insert({i % kPartitions, i / kPartitions});
    }
    ASSERT_TRUE(producer.flush().ok());
  }

  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = kafka.unique_name("serve-ack-group");
  o.metrics_interval_ms = 0;
  o.kafka = kafka.config();
  std::mutex mu;
  std::multiset<std::pair<int32_t, int64_t>> acked;  // guarded by mu
  std::vector<std::string> topics_seen;              // guarded by mu
  int64_t without_timestamp = 0;                     // guarded by mu
  o.on_acknowledged = [&](const kafka::TopicPartitionOffset& input, int64_t timestamp_ms) {
    std::lock_guard lock(mu);
    acked.insert({input.partition, input.offset});
    if (topics_seen.empty() || topics_seen.back() != input.topic) topics_seen.push_back(input.topic);
    if (timestamp_ms < 0) ++without_timestamp;
  };
  Server server(o, [] { return std::make_unique<EchoProcessor>("v1"); });
  std::thread loop = serve_in_background(server);
  const bool served = wait_for([&] { return server.stats().records_out == expected.size(); }, 180s);
  server.stop();
  loop.join();
  ASSERT_TRUE(served) << "records_out " << server.stats().records_out << " of " << expected.size();
  std::lock_guard lock(mu);
  const std::multiset<std::pair<int32_t, int64_t>> want(expected.begin(), expected.end());
  EXPECT_EQ(acked, want);
  EXPECT_EQ(topics_seen, std::vector<std::string>{in});
  EXPECT_EQ(without_timestamp, 0);
}

// --busy-fetch (fetch.wait.max.ms=0): the consumer's fetches come back
// empty at once between bursts; every record of every burst is still served
// exactly once, in order, and the service stops cleanly.
TEST(ServeCoreServer, BusyFetchServesBurstsSeparatedByIdleTime) {
  constexpr int kBursts = 4, kPerBurst = 25;
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-busy-in", 1);
  const std::string out = kafka.create_topic("serve-busy-out", 1);
  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = kafka.unique_name("serve-busy-group");
  o.metrics_interval_ms = 0;
  o.busy_fetch = true;
  o.kafka = kafka.config();
  Server server(o, [] { return std::make_unique<EchoProcessor>("v1"); });
  std::thread loop = serve_in_background(server);
  ASSERT_TRUE(wait_for([&] { return server.stats().assigned_partitions == 1; }, 60s)) << "never joined the group";
  for (int b = 0; b < kBursts; ++b) {
    std::vector<std::string> burst;
    for (int i = 0; i < kPerBurst; ++i) burst.push_back("row-" + std::to_string(b * kPerBurst + i));
    testing::produce_to(in, 0, burst);
    const uint64_t want = static_cast<uint64_t>((b + 1) * kPerBurst);
    ASSERT_TRUE(wait_for([&] { return server.stats().records_out >= want; }, 60s))
        << "burst " << b << ": " << server.stats().records_out << " of " << want << " served";
    std::this_thread::sleep_for(300ms);  // idle: hundreds of empty fetches
  }
  server.stop();
  loop.join();
  const std::vector<ReadRecord> outputs = read_all(out);
  ASSERT_EQ(outputs.size(), static_cast<size_t>(kBursts * kPerBurst));
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(outputs[i].value, "echo:row-" + std::to_string(i)) << "output " << i;
  }
  EXPECT_EQ(server.stats().records_in, static_cast<uint64_t>(kBursts * kPerBurst));
}

}  // namespace
}  // namespace streamml::serve
