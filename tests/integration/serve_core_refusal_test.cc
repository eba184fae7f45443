// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Records the producers refuse at once because they are too large (issue 13,
// items 3 and 26), at-least-once and exactly-once: an output over the
// producer's message.max.bytes is a bad record (dead-lettered, truncated to
// what fits, or logged without a dead-letter topic), and so is a bad input too
// large for the dead-letter topic. Either way its offset is committed, the
// other records are served, and the service goes on (exactly-once never
// serves the batch again and again).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "streamml/data/dead_letter.h"
#include "streamml/kafka/consumer.h"
#include "streamml/serve/server.h"
#include "serve_core_support.h"
#include "support/test_kafka.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::ReadRecord;
using testing::TestKafka;
using testing::read_all;
using testing::ServingThread;
using testing::wait_for;

// The producers' message.max.bytes in these tests (librdkafka's minimum is 1000).
constexpr size_t kMaxMessageBytes = 10000;

// Echoes each payload as "echo:<payload>"; rejects payloads starting with "bad".
class EchoProcessor : public Processor {
 public:
  std::string decoder_spec() const override { return ""; }
  void process(const data::Batch& batch, std::vector<ProcessResult>& results) override {
    for (size_t i = 0; i < batch.size; ++i) {
      const std::string& payload = batch.payloads[i];
      ProcessResult r;
      if (payload.rfind("bad", 0) == 0) {
        r.error = "echo rejects a bad record";
      } else {
        r.output = OutputRecord{std::nullopt, "echo:" + payload, {}};
      }
      results.push_back(std::move(r));
    }
  }
  std::string version() const override { return "v1"; }
};

int64_t committed_offset(const std::string& group, const std::string& topic) {
  kafka::Config c = TestKafka::get().config();
  c.set("group.id", group);
  kafka::Consumer consumer(c);
  for (const auto& tpo : consumer.committed({{topic, 0}})) return tpo.offset;
  return -1;
}

std::string header(const ReadRecord& r, const std::string& name) {
  for (const auto& h : r.headers) {
    if (h.name == name) return h.value.value_or("");
  }
  return "<none>";
}

struct Refusal {
  bool exactly_once;
  bool dead_letter_topic;
};

class ServeRefusalTest : public ::testing::TestWithParam<Refusal> {};

// Inputs: "a", a 20,000-byte one whose output is over message.max.bytes, "b".
TEST_P(ServeRefusalTest, AnOutputTooLargeToProduceIsABadRecordAndServingGoesOn) {
  const Refusal p = GetParam();
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-refuse-in", 1);
  const std::string out = kafka.create_topic("serve-refuse-out", 1);
  const std::string dead = kafka.create_topic("serve-refuse-dlq", 1);
  const std::string big(20000, 'x');
  testing::produce_to(in, 0, {"a", big, "b"});

  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = kafka.unique_name("serve-refuse-group");
  if (p.dead_letter_topic) o.dead_letter_topic = dead;
  o.exactly_once = p.exactly_once;
  o.instance_id = "refusal";
  o.metrics_interval_ms = 0;
  o.kafka = kafka.config();
  o.kafka.set("message.max.bytes", std::to_string(kMaxMessageBytes));
  ServingThread serving(o, [] { return std::make_unique<EchoProcessor>(); });
  Server& server = serving.server();
  const bool done = wait_for(
      [&] {
        const ServerStats s = server.stats();
        return (s.records_in == 3 && s.rejected == 1) || serving.finished();
      },
      60s);
  const bool running = server.stats().running;
  serving.stop();
  const std::string& error = serving.error();
  ASSERT_TRUE(done && server.stats().records_in == 3) << "records_in " << server.stats().records_in << ", rejected " << server.stats().rejected
                    << ", error: " << error;
  EXPECT_TRUE(running);
  EXPECT_EQ(error, "");
  EXPECT_EQ(server.stats().aborted_transactions, 0u);

  std::vector<std::string> values;
  for (const ReadRecord& r : read_all(out)) values.push_back(r.value);
  EXPECT_EQ(values, (std::vector<std::string>{"echo:a", "echo:b"}));
  EXPECT_EQ(committed_offset(o.group, in), 3);
  EXPECT_EQ(server.stats().dead_lettered, p.dead_letter_topic ? 1u : 0u);
  const std::vector<ReadRecord> letters = read_all(dead);
  if (!p.dead_letter_topic) {
    EXPECT_TRUE(letters.empty());
    return;
  }
  ASSERT_EQ(letters.size(), 1u);
  const ReadRecord& letter = letters[0];
  EXPECT_NE(header(letter, data::kHeaderError).find("MSG_SIZE_TOO_LARGE"), std::string::npos)
      << header(letter, data::kHeaderError);
  EXPECT_EQ(header(letter, data::kHeaderTruncated), "true");
  EXPECT_EQ(header(letter, data::kHeaderOriginalSize), std::to_string(big.size() + 5));  // "echo:" + big
  EXPECT_EQ(header(letter, data::kHeaderSourceTopic), in);
  EXPECT_EQ(header(letter, data::kHeaderSourcePartition), "0");
  EXPECT_EQ(header(letter, data::kHeaderSourceOffset), "1");
  EXPECT_LT(letter.value.size(), kMaxMessageBytes);
  EXPECT_EQ(letter.value.rfind("echo:xxx", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, ServeRefusalTest,
                         ::testing::Values(Refusal{false, true}, Refusal{true, true}, Refusal{false, false},
                                           Refusal{true, false}),
                         [](const auto& info) {
                           return std::string(info.param.exactly_once ? "ExactlyOnce" : "AtLeastOnce") +
                                  (info.param.dead_letter_topic ? "WithDeadLetterTopic" : "WithoutDeadLetterTopic");
                         });

// A bad input too large for the dead-letter topic goes there truncated, with
// its original size and coordinates; its offset is committed and the next
// record is served.
TEST(ServeRefusal, AnOversizeBadRecordGoesToTheDeadLetterTopicTruncated) {
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-bigbad-in", 1);
  const std::string out = kafka.create_topic("serve-bigbad-out", 1);
  const std::string dead = kafka.create_topic("serve-bigbad-dlq", 1);
  const std::string bad = "bad" + std::string(20000, 'y');
  testing::produce_to(in, 0, {"a", bad, "b"}, {"k0", "k1", "k2"});

  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = kafka.unique_name("serve-bigbad-group");
  o.dead_letter_topic = dead;
  o.metrics_interval_ms = 0;
  o.kafka = kafka.config();
  o.kafka.set("message.max.bytes", std::to_string(kMaxMessageBytes));
  ServingThread serving(o, [] { return std::make_unique<EchoProcessor>(); });
  Server& server = serving.server();
  const bool done = wait_for([&] { return server.stats().records_out == 2 || serving.finished(); }, 60s);
  serving.stop();
  const std::string& error = serving.error();
  ASSERT_TRUE(done && server.stats().records_out == 2)
      << "records_out " << server.stats().records_out << ", error: " << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(server.stats().dead_lettered, 1u);
  EXPECT_EQ(committed_offset(o.group, in), 3);
  const std::vector<ReadRecord> letters = read_all(dead);
  ASSERT_EQ(letters.size(), 1u);
  const ReadRecord& letter = letters[0];
  EXPECT_EQ(letter.key, std::optional<std::string>("k1"));
  EXPECT_EQ(header(letter, data::kHeaderTruncated), "true");
  EXPECT_EQ(header(letter, data::kHeaderOriginalSize), std::to_string(bad.size()));
  EXPECT_EQ(header(letter, data::kHeaderSourceTopic), in);
  EXPECT_EQ(header(letter, data::kHeaderSourcePartition), "0");
  EXPECT_EQ(header(letter, data::kHeaderSourceOffset), "1");
  EXPECT_EQ(header(letter, data::kHeaderError), "echo rejects a bad record");
  EXPECT_LT(letter.value.size(), kMaxMessageBytes);
  EXPECT_EQ(letter.value.rfind("badyyy", 0), 0u);
}

}  // namespace
}  // namespace streamml::serve
