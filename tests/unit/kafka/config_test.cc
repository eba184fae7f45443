// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Config: validation against librdkafka, set/set_default/set_property
// semantics, and secret masking. No broker.
#include "streamml/kafka/config.h"

#include <gtest/gtest.h>

#include <string>

#include "streamml/common/error.h"

namespace streamml::kafka {
namespace {

// Runs `fn`, expecting a ConfigError; returns its message.
template <typename Fn>
std::string config_error(Fn&& fn) {
  try {
    fn();
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(ConfigTest, SetAndGet) {
  Config config;
  config.set("bootstrap.servers", "localhost:9092").set("client.id", "tester");
  EXPECT_EQ(config.get("bootstrap.servers"), "localhost:9092");
  EXPECT_EQ(config.get("client.id"), "tester");
  EXPECT_FALSE(config.get("group.id").has_value());
  EXPECT_TRUE(config.contains("client.id"));
  EXPECT_FALSE(config.contains("group.id"));
}

TEST(ConfigTest, InitializerListKeepsInsertionOrder) {
  Config config{{"client.id", "a"}, {"acks", "all"}, {"linger.ms", "5"}};
  ASSERT_EQ(config.entries().size(), 3u);
  EXPECT_EQ(config.entries()[0], (Config::Entry{"client.id", "a"}));
  EXPECT_EQ(config.entries()[1], (Config::Entry{"acks", "all"}));
  EXPECT_EQ(config.entries()[2], (Config::Entry{"linger.ms", "5"}));
}

TEST(ConfigTest, SetReplacesInPlace) {
  Config config{{"client.id", "a"}, {"linger.ms", "5"}};
  config.set("client.id", "b");
  ASSERT_EQ(config.entries().size(), 2u);
  EXPECT_EQ(config.entries()[0], (Config::Entry{"client.id", "b"}));
}

TEST(ConfigTest, SetDefaultOnlyFillsMissingKeys) {
  Config config{{"linger.ms", "5"}};
  config.set_default("linger.ms", "100").set_default("client.id", "x");
  EXPECT_EQ(config.get("linger.ms"), "5");
  EXPECT_EQ(config.get("client.id"), "x");
}

TEST(ConfigTest, SetDefaultStillValidatesNewKeys) {
  Config config;
  std::string error = config_error([&] { config.set_default("no.such.key", "1"); });
  EXPECT_NE(error.find("no.such.key"), std::string::npos) << error;
  // A key that is already set is left alone and not re-validated.
  config.set("linger.ms", "5");
  config.set_default("linger.ms", "not-a-number");
  EXPECT_EQ(config.get("linger.ms"), "5");
}

TEST(ConfigTest, Erase) {
  Config config{{"client.id", "a"}, {"linger.ms", "5"}};
  config.erase("client.id");
  EXPECT_FALSE(config.contains("client.id"));
  EXPECT_EQ(config.entries().size(), 1u);
  config.erase("not.there");  // no-op
  EXPECT_EQ(config.entries().size(), 1u);
}

TEST(ConfigTest, CopiesAreIndependent) {
  Config a{{"client.id", "a"}};
  Config b = a;
  b.set("client.id", "b");
  EXPECT_EQ(a.get("client.id"), "a");
  EXPECT_EQ(b.get("client.id"), "b");
}

TEST(ConfigTest, UnknownKeyNamesTheKeyAndLibrdkafkasReason) {
  Config config;
  std::string error = config_error([&] { config.set("fetch.wait.max.msec", "1"); });
  EXPECT_NE(error.find("'fetch.wait.max.msec'"), std::string::npos) << error;
  EXPECT_NE(error.find("No such configuration property"), std::string::npos) << error;
  EXPECT_FALSE(config.contains("fetch.wait.max.msec")) << "a rejected pair must not be stored";
}

TEST(ConfigTest, BadValueNamesTheKeyAndTheReason) {
  Config config;
  std::string error = config_error([&] { config.set("enable.idempotence", "maybe"); });
  EXPECT_NE(error.find("'enable.idempotence'"), std::string::npos) << error;
  EXPECT_NE(error.find("true or false"), std::string::npos) << "librdkafka's reason: " << error;

  std::string range = config_error([&] { config.set("fetch.wait.max.ms", "-5"); });
  EXPECT_NE(range.find("fetch.wait.max.ms"), std::string::npos) << range;
  EXPECT_NE(range.find("range"), std::string::npos) << "librdkafka's reason: " << range;

  std::string number = config_error([&] { config.set("linger.ms", "soon"); });
  EXPECT_NE(number.find("linger.ms"), std::string::npos) << number;
  EXPECT_TRUE(config.entries().empty());
}

TEST(ConfigTest, InitializerListThrowsForTheFirstInvalidPair) {
  std::string error = config_error([] { Config c{{"client.id", "a"}, {"bogus.key", "1"}, {"other.bogus", "2"}}; });
  EXPECT_NE(error.find("bogus.key"), std::string::npos) << error;
  EXPECT_EQ(error.find("other.bogus"), std::string::npos) << error;
}

TEST(ConfigTest, EmptyKeyIsRejected) {
  Config config;
  std::string error = config_error([&] { config.set("", "x"); });
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

TEST(ConfigTest, TopicLevelPropertiesAreAccepted) {
  // librdkafka takes topic-level properties on the global conf as defaults.
  Config config{{"acks", "all"}, {"auto.offset.reset", "earliest"}, {"compression.codec", "lz4"}};
  EXPECT_EQ(config.get("acks"), "all");
}

TEST(ConfigTest, TopicPrefixedNameIsTheSameProperty) {
  // -X topic.auto.offset.reset=latest must win over a default set later.
  Config config;
  config.set_property("topic.auto.offset.reset=latest");
  config.set_default("auto.offset.reset", "earliest");
  EXPECT_EQ(config.get("auto.offset.reset"), "latest");
  EXPECT_EQ(config.get("topic.auto.offset.reset"), "latest");
  ASSERT_EQ(config.entries().size(), 1u);
  EXPECT_EQ(config.entries()[0], (Config::Entry{"auto.offset.reset", "latest"}));

  // And the other way round: one entry, the last value.
  Config other{{"auto.offset.reset", "earliest"}};
  other.set("topic.auto.offset.reset", "latest");
  other.set_default("topic.auto.offset.reset", "error");
  ASSERT_EQ(other.entries().size(), 1u);
  EXPECT_EQ(other.get("auto.offset.reset"), "latest");
  other.erase("topic.auto.offset.reset");
  EXPECT_FALSE(other.contains("auto.offset.reset"));
}

TEST(ConfigTest, TensorflowIoConfTopicPrefixIsAnAlias) {
  Config config;
  config.set_property("conf.topic.auto.offset.reset=smallest");
  config.set_default("auto.offset.reset", "earliest");
  EXPECT_EQ(config.get("auto.offset.reset"), "smallest");
  EXPECT_TRUE(config.contains("conf.topic.auto.offset.reset"));
  ASSERT_EQ(config.entries().size(), 1u);
  EXPECT_EQ(config.entries()[0].first, "auto.offset.reset");

  std::string error = config_error([&] { config.set("conf.topic.no.such.thing", "1"); });
  EXPECT_NE(error.find("'conf.topic.no.such.thing'"), std::string::npos) << error;
}

TEST(ConfigTest, GlobalPropertiesNamedTopicDotKeepTheirName) {
  Config config{{"topic.metadata.refresh.interval.ms", "1000"}};
  EXPECT_EQ(config.entries()[0].first, "topic.metadata.refresh.interval.ms");
  EXPECT_EQ(config.get("topic.metadata.refresh.interval.ms"), "1000");
}

TEST(ConfigTest, SetPropertySplitsAtTheFirstEquals) {
  Config config;
  config.set_property("client.id=a=b");
  EXPECT_EQ(config.get("client.id"), "a=b");
  config.set_property("linger.ms=7");
  EXPECT_EQ(config.get("linger.ms"), "7");
}

TEST(ConfigTest, SetPropertyWithoutEqualsShowsTheExpectedForm) {
  Config config;
  std::string error = config_error([&] { config.set_property("fetch.wait.max.ms"); });
  EXPECT_NE(error.find("'fetch.wait.max.ms'"), std::string::npos) << error;
  EXPECT_NE(error.find("expected key=value"), std::string::npos) << error;

  std::string empty_key = config_error([&] { config.set_property("=5"); });
  EXPECT_NE(empty_key.find("expected key=value"), std::string::npos) << empty_key;
  EXPECT_TRUE(config.entries().empty());
}

TEST(ConfigTest, SetPropertyValidatesLikeSet) {
  Config config;
  std::string error = config_error([&] { config.set_property("no.such.thing=1"); });
  EXPECT_NE(error.find("'no.such.thing'"), std::string::npos) << error;
  EXPECT_NE(error.find("No such configuration property"), std::string::npos) << error;
}

TEST(ConfigTest, ToStringMasksSecrets) {
  Config config{{"bootstrap.servers", "b:9092"},
                {"security.protocol", "sasl_ssl"},
                {"sasl.mechanisms", "PLAIN"},
                {"sasl.username", "alice"},
                {"sasl.password", "hunter2"},
                {"ssl.key.password", "s3cret-key"}};
  std::string text = config.to_string();
  EXPECT_NE(text.find("bootstrap.servers=b:9092"), std::string::npos) << text;
  EXPECT_NE(text.find("sasl.username=alice"), std::string::npos) << text;
  EXPECT_NE(text.find("sasl.password=***"), std::string::npos) << text;
  EXPECT_NE(text.find("ssl.key.password=***"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cret-key"), std::string::npos) << text;
  // The stored value itself is untouched.
  EXPECT_EQ(config.get("sasl.password"), "hunter2");
}

TEST(ConfigTest, ToStringMasksPemKeysAndOauthConfig) {
  Config config;
  config.set("sasl.oauthbearer.config", "principal=admin secret=abc123");
  std::string text = config.to_string();
  EXPECT_EQ(text.find("abc123"), std::string::npos) << text;
  EXPECT_NE(text.find("sasl.oauthbearer.config=***"), std::string::npos) << text;
}

TEST(ConfigTest, ToStringIsInInsertionOrder) {
  Config config{{"client.id", "a"}, {"linger.ms", "5"}};
  EXPECT_EQ(config.to_string(), "client.id=a, linger.ms=5");
  EXPECT_EQ(Config().to_string(), "");
}

}  // namespace
}  // namespace streamml::kafka
