// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaError names, messages and classification (retriable / fatal), and the
// error values the clients return without a broker.
#include "streamml/kafka/error.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

#include "../src/kafka/internal.h"  // internal::to_error: the one place codes become KafkaErrors
#include "streamml/common/error.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/producer.h"

namespace streamml::kafka {
namespace {

TEST(KafkaErrorTest, DefaultIsOk) {
  KafkaError err;
  EXPECT_TRUE(err.ok());
  EXPECT_FALSE(static_cast<bool>(err));
  EXPECT_EQ(err.code(), 0);
  EXPECT_EQ(err.name(), "NO_ERROR");
  EXPECT_FALSE(err.is_fatal());
  EXPECT_FALSE(err.is_retriable());
}

TEST(KafkaErrorTest, NamesAreLibrdkafkas) {
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT).name(), "_TIMED_OUT");
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION).name(), "NOT_LEADER_FOR_PARTITION");
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT).name(), "REQUEST_TIMED_OUT");
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR__PARTITION_EOF).name(), "_PARTITION_EOF");
  EXPECT_EQ(KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART).name(), "UNKNOWN_TOPIC_OR_PART");
}

TEST(KafkaErrorTest, NamedPredicatesClassifyTheCodesCallersActOn) {
  for (auto code : {RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
                    RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS}) {
    EXPECT_TRUE(KafkaError(code).is_membership_lost()) << rd_kafka_err2name(code);
    EXPECT_FALSE(KafkaError(code).is_offset_out_of_range()) << rd_kafka_err2name(code);
  }
  for (auto code : {RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET}) {
    EXPECT_TRUE(KafkaError(code).is_offset_out_of_range()) << rd_kafka_err2name(code);
    EXPECT_FALSE(KafkaError(code).is_membership_lost()) << rd_kafka_err2name(code);
  }
  EXPECT_FALSE(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT).is_membership_lost());
  EXPECT_FALSE(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT).is_offset_out_of_range());
  EXPECT_FALSE(KafkaError().is_offset_out_of_range());
  EXPECT_TRUE(KafkaError(RD_KAFKA_RESP_ERR__QUEUE_FULL).is_queue_full());
  EXPECT_FALSE(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT).is_queue_full());
  EXPECT_FALSE(KafkaError().is_queue_full());
  EXPECT_EQ(KafkaError(kErrFail).name(), "_FAIL");
  EXPECT_EQ(KafkaError(kErrMessageTimedOut).name(), "_MSG_TIMED_OUT");
}

TEST(KafkaErrorTest, OnlyATransactionalErrorThatSaysSoRequiresAnAbort) {
  // librdkafka sets the flag only on errors of transactional calls (covered
  // by the exactly-once integration tests); a plain error never has it.
  ErrorPtr plain(rd_kafka_error_new(RD_KAFKA_RESP_ERR__STATE, "%s", "not in a transaction"));
  EXPECT_FALSE(internal::to_error(plain.get()).requires_abort());
  EXPECT_FALSE(KafkaError(RD_KAFKA_RESP_ERR__STATE).requires_abort());
  EXPECT_TRUE(KafkaError(RD_KAFKA_RESP_ERR__STATE, "", false, false, /*requires_abort=*/true).requires_abort());
}

TEST(KafkaErrorTest, ErrorIsTrueInBooleanContext) {
  KafkaError err(RD_KAFKA_RESP_ERR__TIMED_OUT);
  EXPECT_FALSE(err.ok());
  EXPECT_TRUE(static_cast<bool>(err));
  EXPECT_EQ(err.code(), RD_KAFKA_RESP_ERR__TIMED_OUT);
}

TEST(KafkaErrorTest, MessageHasNameTextAndDetail) {
  KafkaError err(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "producing to orders");
  std::string text = err.message();
  EXPECT_EQ(text.rfind("UNKNOWN_TOPIC_OR_PART: ", 0), 0u) << text;
  EXPECT_NE(text.find(rd_kafka_err2str(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)), std::string::npos) << text;
  EXPECT_NE(text.find(": producing to orders"), std::string::npos) << text;
}

TEST(KafkaErrorTest, MessageDoesNotRepeatDetailEqualToTheText) {
  const char* text = rd_kafka_err2str(RD_KAFKA_RESP_ERR__TIMED_OUT);
  KafkaError err(RD_KAFKA_RESP_ERR__TIMED_OUT, text);
  EXPECT_EQ(err.message(), std::string("_TIMED_OUT: ") + text);
}

TEST(KafkaErrorTest, FlagsAreKept) {
  KafkaError err(RD_KAFKA_RESP_ERR__FATAL, "boom", /*fatal=*/true, /*retriable=*/false);
  EXPECT_TRUE(err.is_fatal());
  EXPECT_FALSE(err.is_retriable());
  KafkaError copy = err;
  EXPECT_TRUE(copy.is_fatal());
  EXPECT_EQ(copy.message(), err.message());
}

TEST(KafkaErrorTest, ThrowIfErrorThrowsOnlyOnError) {
  EXPECT_NO_THROW(throw_if_error(KafkaError(), "nothing"));
  try {
    throw_if_error(KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), "reading topic x");
    FAIL() << "expected kafka::KafkaException";
  } catch (const kafka::KafkaException& e) {
    EXPECT_EQ(e.code(), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    std::string what = e.what();
    EXPECT_EQ(what.rfind("reading topic x: UNKNOWN_TOPIC_OR_PART", 0), 0u) << what;
  }
}

TEST(KafkaErrorClassificationTest, RetriableCodes) {
  for (auto code : {RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                    RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN}) {
    KafkaError err = internal::to_error(code);
    EXPECT_TRUE(err.is_retriable()) << err.name();
    EXPECT_FALSE(err.is_fatal()) << err.name();
    EXPECT_FALSE(err.ok());
  }
}

TEST(KafkaErrorClassificationTest, FatalCodes) {
  for (auto code : {RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED}) {
    KafkaError err = internal::to_error(code);
    EXPECT_TRUE(err.is_fatal()) << err.name();
    EXPECT_FALSE(err.is_retriable()) << err.name();
  }
}

TEST(KafkaErrorClassificationTest, PermanentCodesAreNeither) {
  for (auto code : {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__INVALID_ARG,
                    RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE}) {
    KafkaError err = internal::to_error(code);
    EXPECT_FALSE(err.is_retriable()) << err.name();
    EXPECT_FALSE(err.is_fatal()) << err.name();
  }
  EXPECT_TRUE(internal::to_error(RD_KAFKA_RESP_ERR_NO_ERROR, "ignored").ok());
}

TEST(KafkaErrorClassificationTest, ErrorObjectsKeepLibrdkafkasFlags) {
  ErrorPtr retriable(rd_kafka_error_new(RD_KAFKA_RESP_ERR__TIMED_OUT, "waited %d ms", 5));
  KafkaError err = internal::to_error(retriable.get());
  EXPECT_EQ(err.code(), RD_KAFKA_RESP_ERR__TIMED_OUT);
  EXPECT_NE(err.message().find("waited 5 ms"), std::string::npos) << err.message();
  EXPECT_TRUE(internal::to_error(static_cast<rd_kafka_error_t*>(nullptr)).ok());
}

// --- error values returned by the clients, no broker needed ------------------

// A bootstrap address where nothing listens.
Config unreachable() { return Config{{"bootstrap.servers", "127.0.0.1:1"}, {"log_level", "0"}}; }

TEST(ClientErrorValuesTest, FullLocalQueueIsARetriableValue) {
  Config config = unreachable();
  config.set("queue.buffering.max.messages", "1");
  Producer producer(config);
  ProduceRecord record;
  record.topic = "t";
  record.partition = 0;
  record.value = "first";
  EXPECT_TRUE(producer.produce(record, milliseconds(0)).ok());
  record.value = "second";
  KafkaError err = producer.produce(record, milliseconds(0));
  EXPECT_EQ(err.code(), RD_KAFKA_RESP_ERR__QUEUE_FULL) << err.message();
  EXPECT_TRUE(err.is_retriable());
  EXPECT_NE(err.message().find("producing to t"), std::string::npos) << err.message();
  producer.close(milliseconds(0));
}

TEST(ClientErrorValuesTest, OversizedMessageIsAPermanentValue) {
  Config config = unreachable();
  config.set("message.max.bytes", "1000");
  Producer producer(config);
  std::string big(5000, 'x');
  ProduceRecord record;
  record.topic = "t";
  record.value = big;
  KafkaError err = producer.produce(record, milliseconds(0));
  EXPECT_EQ(err.code(), RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) << err.message();
  EXPECT_FALSE(err.is_retriable());
  producer.close(milliseconds(0));
}

TEST(ClientErrorValuesTest, ProducerRejectsInvalidConfigWithConfigError) {
  Config config = unreachable();
  config.set("transactional.id", "tx");
  config.set("enable.idempotence", "true");
  config.set("acks", "1");  // idempotence requires acks=all
  EXPECT_THROW(Producer producer(config), Error);
}

TEST(ClientErrorValuesTest, CommitWithoutGroupIsAnError) {
  Consumer consumer(unreachable());
  KafkaError err = consumer.commit({{"t", 0, 5}});
  EXPECT_EQ(err.code(), RD_KAFKA_RESP_ERR__INVALID_ARG);
  EXPECT_NE(err.message().find("group.id"), std::string::npos) << err.message();
  EXPECT_TRUE(consumer.commit({}).ok()) << "committing nothing is not an error";
}

TEST(ClientErrorValuesTest, SubscribeWithoutGroupIsAConfigError) {
  Consumer consumer(unreachable());
  try {
    consumer.subscribe({"t"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("group.id"), std::string::npos) << e.what();
  }
}

TEST(MessageTest, EmptyMessageHasNoData) {
  Message m;
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(m.error().ok());
  EXPECT_FALSE(m.is_eof());
  EXPECT_EQ(m.offset(), kOffsetInvalid);
  EXPECT_EQ(m.partition(), -1);
  EXPECT_FALSE(m.has_key());
  EXPECT_FALSE(m.has_value());
  EXPECT_TRUE(m.key().empty());
  EXPECT_TRUE(m.value().empty());
  EXPECT_EQ(m.timestamp_ms(), -1);
  EXPECT_TRUE(m.headers().empty());
  EXPECT_EQ(m.topic(), "");
}

}  // namespace
}  // namespace streamml::kafka
