// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve::ServerOptions: what run() gives its consumer, and the checks the
// constructor makes (no broker: the constructor does not connect).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "serve/server_options.h"
#include "streamml/common/error.h"
#include "streamml/serve/server.h"

namespace streamml::serve {
namespace {

ServerOptions valid_options() {
  ServerOptions o;
  o.input_topics = {"in"};
  o.output_topic = "out";
  o.group = "g";
  o.kafka = kafka::Config{{"bootstrap.servers", "127.0.0.1:9"}};
  return o;
}

ProcessorFactory no_processor() {
  return []() -> std::unique_ptr<Processor> { return nullptr; };
}

TEST(ServeConsumerConfig, ManualCommitsReadCommittedAndTheGroup) {
  const kafka::Config c = consumer_config(valid_options());
  EXPECT_EQ(c.get("group.id"), "g");
  EXPECT_EQ(c.get("enable.auto.commit"), "false");
  EXPECT_EQ(c.get("auto.offset.reset"), "earliest");
  EXPECT_EQ(c.get("isolation.level"), "read_committed");
  EXPECT_EQ(c.get("bootstrap.servers"), "127.0.0.1:9");
  // Without busy fetch the fetch wait is left to kafka::Consumer (1 ms on
  // the embedded cluster, librdkafka's default on a real broker).
  EXPECT_FALSE(c.contains("fetch.wait.max.ms"));
}

TEST(ServeConsumerConfig, UserPropertiesWinOverDefaultsButNotOverManualCommits) {
  ServerOptions o = valid_options();
  o.kafka.set("auto.offset.reset", "latest");
  o.kafka.set("isolation.level", "read_uncommitted");
  o.kafka.set("enable.auto.commit", "true");
  const kafka::Config c = consumer_config(o);
  EXPECT_EQ(c.get("auto.offset.reset"), "latest");
  EXPECT_EQ(c.get("isolation.level"), "read_uncommitted");
  EXPECT_EQ(c.get("enable.auto.commit"), "false");  // commits follow acknowledged outputs
}

TEST(ServeConsumerConfig, BusyFetchSetsAZeroFetchWait) {
  ServerOptions o = valid_options();
  o.busy_fetch = true;
  EXPECT_EQ(consumer_config(o).get("fetch.wait.max.ms"), "0");
}

TEST(ServeServerOptions, BusyFetchAndAnExplicitFetchWaitAreRejectedNamingBoth) {
  ServerOptions o = valid_options();
  o.busy_fetch = true;
  o.kafka.set("fetch.wait.max.ms", "5");
  try {
    Server server(o, no_processor());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--busy-fetch"), std::string::npos) << what;
    EXPECT_NE(what.find("fetch.wait.max.ms=5"), std::string::npos) << what;
  }
  o.busy_fetch = false;
  EXPECT_NO_THROW(Server(o, no_processor()));  // either one alone is fine
}

TEST(ServeProducerConfig, LowLingerAndA64MiBQueueUnlessGiven) {
  ServerOptions o = valid_options();
  kafka::Config c = output_producer_config(o);
  EXPECT_EQ(c.get("linger.ms"), "1");
  EXPECT_EQ(c.get("queue.buffering.max.kbytes"), "65536");
  o.kafka.set("queue.buffering.max.kbytes", "1024");
  o.kafka.set("linger.ms", "5");
  c = output_producer_config(o);
  EXPECT_EQ(c.get("queue.buffering.max.kbytes"), "1024");
  EXPECT_EQ(c.get("linger.ms"), "5");
}

TEST(ServeInFlightLimit, TheProducersQueueByDefaultMaxInFlightWhenGiven) {
  ServerOptions o = valid_options();
  InFlightLimit limit = in_flight_limit(o, output_producer_config(o));
  EXPECT_EQ(limit.records, 100000u) << "librdkafka's queue.buffering.max.messages";
  EXPECT_EQ(limit.bytes, 65536u * 1024 / 2) << "half the queue's bytes";
  o.kafka.set("queue.buffering.max.messages", "5000");
  EXPECT_EQ(in_flight_limit(o, output_producer_config(o)).records, 5000u);
  o.max_in_flight = 64;
  EXPECT_EQ(in_flight_limit(o, output_producer_config(o)).records, 64u);
}

}  // namespace
}  // namespace streamml::serve
