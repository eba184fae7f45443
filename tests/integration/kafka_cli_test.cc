// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The streamml CLI end to end (the built binary in a child process):
// produce/consume, range specs, exit codes and error messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "streamml/kafka/admin.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::CommandResult;
using streamml::testing::shell_quote;
using streamml::testing::TempDir;
using streamml::testing::TestKafka;

constexpr int kExitUsage = 2;

// "streamml <args>" with -b pointing at the test cluster where `with_brokers`.
std::string cli(const std::string& args) { return shell_quote(streamml::testing::cli_path()) + " " + args; }
std::string brokers() { return "-b " + shell_quote(TestKafka::get().bootstrap()); }

CommandResult run(const std::string& args, const std::string& input = {}) {
  return streamml::testing::run_command_capture(cli(args), input);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// Produces "p<partition>-<i>" for i in [0, count) to one partition.
void produce_numbered(const std::string& topic, int32_t partition, int count) {
  Producer producer(TestKafka::get().config());
  for (int i = 0; i < count; ++i) {
    std::string value = "p" + std::to_string(partition) + "-" + std::to_string(i);
    ProduceRecord r;
    r.topic = topic;
    r.partition = partition;
    r.value = value;
    ASSERT_TRUE(producer.produce(r).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
}

TEST(KafkaCliTest, ProduceKeysAndHeadersThenConsumeThem) {
  const std::string topic = TestKafka::get().create_topic("cli-produce", 1);
  TempDir dir;
  const std::string file = dir.write("input.txt", "k1:v1\nk2:v2 with: colon\nno delimiter\n:empty key\n");
  CommandResult produced =
      run("produce " + brokers() + " -t " + topic + " -K : -H a=1 -H b=x=y " + shell_quote(file));
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  // Status on stderr; stdout stays empty, as with kcat.
  EXPECT_NE(produced.err.find("delivered 4 of 4 message(s) to " + topic), std::string::npos) << produced.err;
  EXPECT_EQ(produced.out, "");

  CommandResult consumed = run("consume " + brokers() + " -e -f " + shell_quote("%k|%s|%h|%p|%o\\n") + " " + topic);
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(consumed.out,
            "k1|v1|a=1,b=x=y|0|0\n"
            "k2|v2 with: colon|a=1,b=x=y|0|1\n"
            "|no delimiter|a=1,b=x=y|0|2\n"
            "|empty key|a=1,b=x=y|0|3\n");

  // A line without the delimiter has a null key; ":x" has an empty one.
  auto records = streamml::testing::read_range(topic, 0, 0, 4);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_FALSE(records[2].key.has_value());
  ASSERT_TRUE(records[3].key.has_value());
  EXPECT_EQ(*records[3].key, "");
  EXPECT_EQ(records[0].headers, (Headers{{"a", std::string("1")}, {"b", std::string("x=y")}}));
}

TEST(KafkaCliTest, ProduceFromStdinToAPartition) {
  const std::string topic = TestKafka::get().create_topic("cli-stdin", 3);
  CommandResult produced = run("produce " + brokers() + " -t " + topic + " -p 2", "one\ntwo\nthree\n");
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_NE(produced.err.find("delivered 3 of 3"), std::string::npos) << produced.err;
  EXPECT_EQ(streamml::testing::watermarks(topic, 2).high, 3);
  EXPECT_EQ(streamml::testing::watermarks(topic, 0).high, 0);
  CommandResult consumed = run("consume " + brokers() + " -e -f '%p:%o:%s\\n' " + topic + ":2");
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(consumed.out, "2:0:one\n2:1:two\n2:2:three\n");

  CommandResult bad_partition = run("produce " + brokers() + " -t " + topic + " -p 3", "x\n");
  EXPECT_EQ(bad_partition.exit_code, kExitUsage) << bad_partition.err;
  EXPECT_NE(bad_partition.err.find("has only 3 partition(s)"), std::string::npos) << bad_partition.err;
}

TEST(KafkaCliTest, ConsumeRangesWithInclusiveEndsAndCount) {
  const std::string topic = TestKafka::get().create_topic("cli-ranges", 2);
  produce_numbered(topic, 0, 10);
  produce_numbered(topic, 1, 5);

  // Bounded ranges need no -e: they stop after their (inclusive) end.
  CommandResult range = run("consume " + brokers() + " -f '%o:%s\\n' " + topic + ":0:2:4");
  ASSERT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(range.out, "2:p0-2\n3:p0-3\n4:p0-4\n");

  CommandResult two = run("consume " + brokers() + " -f '%p:%o\\n' " + topic + ":0:8:9 " + topic + ":1:0:0");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  std::vector<std::string> got = lines(two.out);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"0:8", "0:9", "1:0"}));

  // A repeatable option (-X) must not swallow the spec after it.
  CommandResult after_x = run("consume " + brokers() + " -f '%o\\n' -X fetch.wait.max.ms=5 " + topic + ":0:6:6");
  ASSERT_EQ(after_x.exit_code, 0) << after_x.err;
  EXPECT_EQ(after_x.out, "6\n");

  CommandResult count = run("consume " + brokers() + " -c 3 -f '%o\\n' " + topic + ":0");
  ASSERT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out, "0\n1\n2\n");

  CommandResult from_end = run("consume " + brokers() + " -e -f '%o\\n' " + topic + ":1:-1");
  ASSERT_EQ(from_end.exit_code, 0) << from_end.err;
  EXPECT_EQ(from_end.out, "") << "-1 starts at the high watermark";

  CommandResult all = run("consume " + brokers() + " -e -f '%p %s\\n' " + topic);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(lines(all.out).size(), 15u) << all.out;

  CommandResult sizes = run("consume " + brokers() + " -f '%S|%T|%t\\n' " + topic + ":1:4:4");
  ASSERT_EQ(sizes.exit_code, 0) << sizes.err;
  EXPECT_EQ(sizes.out.substr(0, 2), "4|");
  EXPECT_NE(sizes.out.find("|" + topic + "\n"), std::string::npos) << sizes.out;
}

TEST(KafkaCliTest, BoundedRangePastTheNewestOffsetFailsAtOnce) {
  const std::string topic = TestKafka::get().create_topic("cli-future", 1);
  produce_numbered(topic, 0, 10);
  // Before: waited for ever with no message (`timeout` is only a guard: exit 124).
  CommandResult past_end =
      streamml::testing::run_command_capture("timeout 120 " + cli("consume " + brokers() + " " + topic + ":0:5:6000"));
  EXPECT_EQ(past_end.exit_code, 1) << past_end.err;
  EXPECT_NE(past_end.err.find(topic + ":0 ends at offset 9; the range asks for 5..6000"), std::string::npos)
      << past_end.err;
  EXPECT_EQ(past_end.out, "");
  // Before: "no longer in the log (retention)".
  CommandResult past_start = run("consume " + brokers() + " " + topic + ":0:20:30");
  EXPECT_EQ(past_start.exit_code, 1) << past_start.err;
  EXPECT_NE(past_start.err.find(topic + ":0 ends at offset 9; the range asks for 20..30"), std::string::npos)
      << past_start.err;
  EXPECT_EQ(past_start.err.find("no longer in the log"), std::string::npos) << past_start.err;
}

TEST(KafkaCliTest, UnknownPropertyIsAUsageErrorNamingIt) {
  const std::string topic = TestKafka::get().create_topic("cli-prop", 1);
  CommandResult r = run("consume " + brokers() + " -X fetch.wait.max.msec=1 -e " + topic);
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("fetch.wait.max.msec"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No such configuration property"), std::string::npos) << r.err;

  CommandResult no_equals = run("produce " + brokers() + " -t " + topic + " -X linger.ms", "x\n");
  EXPECT_EQ(no_equals.exit_code, kExitUsage) << no_equals.err;
  EXPECT_NE(no_equals.err.find("expected key=value"), std::string::npos) << no_equals.err;
  EXPECT_EQ(streamml::testing::watermarks(topic, 0).high, 0);
}

TEST(KafkaCliTest, UnreachableBootstrapFailsInBoundedTimeNamingTheAddress) {
  for (const std::string command : {"consume -e t", "produce -t t", "topics list"}) {
    // Not a speed goal: a bound that catches a hang. The binary's own start-up
    // (loading LibTorch on a busy machine) is measured and allowed for.
    CommandResult baseline = run("--version");
    ASSERT_EQ(baseline.exit_code, 0) << baseline.err;
    CommandResult r = run(command + " -b 127.0.0.1:1 --timeout 1000", "x\n");
    EXPECT_NE(r.exit_code, 0) << command;
    EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << command << ": " << r.err;
    EXPECT_NE(r.err.find("--timeout"), std::string::npos) << command << ": " << r.err;
    EXPECT_LT(r.elapsed.count(), 3 * baseline.elapsed.count() + 10000)
        << command << " took " << r.elapsed.count() << " ms (start-up alone: " << baseline.elapsed.count() << " ms)";
  }
}

TEST(KafkaCliTest, MalformedSpecIsAUsageErrorShowingTheForm) {
  for (const std::string spec : {"t:x", "t:0:5:2", "t:0:1:2:3", "bad topic", "t::@soon"}) {
    CommandResult r = run("consume " + brokers() + " " + shell_quote(spec));
    EXPECT_EQ(r.exit_code, kExitUsage) << spec << ": " << r.err;
    EXPECT_NE(r.err.find("invalid range spec '" + spec + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("expected topic[:partition[:start[:end]]]"), std::string::npos) << r.err;
  }
}

TEST(KafkaCliTest, MissingTopicIsNamedAndNotCreatedByReaders) {
  const std::string missing = TestKafka::get().unique_name("cli-missing");
  CommandResult consume = run("consume " + brokers() + " -e " + missing);
  EXPECT_NE(consume.exit_code, 0);
  EXPECT_NE(consume.err.find("'" + missing + "'"), std::string::npos) << consume.err;

  CommandResult group = run("consume " + brokers() + " -G g -e " + missing);
  EXPECT_NE(group.exit_code, 0);
  EXPECT_NE(group.err.find("'" + missing + "'"), std::string::npos) << group.err;

  CommandResult missing_partition = run("consume " + brokers() + " -e " + TestKafka::get().create_topic("cli-one", 1) + ":4");
  EXPECT_NE(missing_partition.exit_code, 0);
  EXPECT_NE(missing_partition.err.find("partition 4"), std::string::npos) << missing_partition.err;

  Admin admin(TestKafka::get().config());
  EXPECT_FALSE(admin.topic_exists(missing)) << "commands that read must not create topics";
}

TEST(KafkaCliTest, ProduceCreatesAMissingTopicWhenTheClusterAllowsIt) {
  // The rule of every streamml producer (README "Topic auto-creation"), as
  // for predict --output-topic, serve's outputs and kcat.
  const std::string missing = TestKafka::get().unique_name("cli-autocreate");
  CommandResult produce = run("produce " + brokers() + " -t " + missing, "x\ny\n");
  ASSERT_EQ(produce.exit_code, 0) << produce.err;
  EXPECT_NE(produce.err.find("delivered 2 of 2"), std::string::npos) << produce.err;
  EXPECT_EQ(streamml::testing::read_all(missing).size(), 2u);
  Admin admin(TestKafka::get().config());
  EXPECT_TRUE(admin.topic_exists(missing));
}

TEST(KafkaCliTest, UnreadableInputFileIsNamedAndNothingIsProduced) {
  const std::string topic = TestKafka::get().create_topic("cli-file", 1);
  TempDir dir;
  const std::string good = dir.write("good.txt", "a\nb\n");
  const std::string missing = dir.path() + "/does-not-exist.txt";
  CommandResult r = run("produce " + brokers() + " -t " + topic + " " + shell_quote(good) + " " + shell_quote(missing));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'" + missing + "'"), std::string::npos) << r.err;
  EXPECT_EQ(streamml::testing::watermarks(topic, 0).high, 0) << "no line of any file may be produced";

  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << "the reason: " << r.err;

  CommandResult dir_input = run("produce " + brokers() + " -t " + topic + " " + shell_quote(dir.path()));
  EXPECT_NE(dir_input.exit_code, 0) << "a directory is not a readable input file";
  EXPECT_NE(dir_input.err.find("'" + dir.path() + "'"), std::string::npos) << dir_input.err;
  EXPECT_NE(dir_input.err.find("is a directory"), std::string::npos) << "the reason: " << dir_input.err;
  EXPECT_EQ(streamml::testing::watermarks(topic, 0).high, 0);
}

TEST(KafkaCliTest, OversizedLineIsNamedNotDropped) {
  const std::string topic = TestKafka::get().create_topic("cli-big", 1);
  const std::string input = "small\n" + std::string(5000, 'x') + "\nnever sent\n";
  CommandResult r = run("produce " + brokers() + " -t " + topic + " -X message.max.bytes=1000", input);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("producing line 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("MSG_SIZE_TOO_LARGE"), std::string::npos) << r.err;
  // The line before the failure was accepted and is delivered; nothing after it is sent.
  auto records = streamml::testing::read_range(topic, 0, 0, streamml::testing::watermarks(topic, 0).high);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "small");
}

TEST(KafkaCliTest, ConsumingRecordsLostToRetentionFailsNamingThem) {
  if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB retention";
  const std::string topic = TestKafka::get().create_topic("cli-retention", 1);
  streamml::testing::produce_to(topic, 0, std::vector<std::string>(1024, std::string(8 * 1024, 'r')));
  const Watermarks w = streamml::testing::watermarks(topic, 0);
  ASSERT_GT(w.low, 0);
  CommandResult r = run("consume " + brokers() + " -f '%o\\n' " + topic + ":0:0:5");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("records 0..5 of " + topic + ":0 are no longer in the log"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing may be printed in place of the lost records";

  // From the beginning means from the current log start.
  CommandResult from_start = run("consume " + brokers() + " -c 1 -f '%o\\n' " + topic + ":0");
  ASSERT_EQ(from_start.exit_code, 0) << from_start.err;
  EXPECT_EQ(from_start.out, std::to_string(w.low) + "\n");
}

TEST(KafkaCliTest, EmbeddedBrokerForOneShotUse) {
  CommandResult created = run("topics create -b embedded -p 3 alpha beta");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("created alpha (3 partition(s)"), std::string::npos) << created.out;
  EXPECT_NE(created.out.find("created beta (3 partition(s)"), std::string::npos) << created.out;

  CommandResult listed = run("topics list -b embedded");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;

  CommandResult consumed = run("consume -b embedded -e nothing-here");
  EXPECT_NE(consumed.exit_code, 0);
  EXPECT_NE(consumed.err.find("'nothing-here'"), std::string::npos) << consumed.err;
}

TEST(KafkaCliTest, TopicsCreateThroughTheCli) {
  const std::string name = TestKafka::get().unique_name("cli-create");
  CommandResult r = run("topics create " + brokers() + " -p 6 " + name);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("created " + name + " (6 partition(s)"), std::string::npos) << r.out;
  Admin admin(TestKafka::get().config());
  EXPECT_EQ(admin.describe_topic(name).partitions.size(), 6u);

  CommandResult again = run("topics create " + brokers() + " " + name);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find(name), std::string::npos) << again.err;
}

TEST(KafkaCliTest, TopicsDescribeShowsPartitionsAndOffsets) {
  const std::string topic = TestKafka::get().create_topic("cli-describe", 2);
  produce_numbered(topic, 1, 4);
  CommandResult r = run("topics describe " + brokers() + " " + topic);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("topic " + topic + ": 2 partition(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("partition 1"), std::string::npos) << r.out;
  // Inclusive, as range specs: 4 records are offsets 0..3.
  EXPECT_NE(r.out.find("offsets 0..3 (4 records)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no records (next offset 0)"), std::string::npos) << r.out;

  CommandResult listed = run("topics list " + brokers());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(topic + "\t2\n"), std::string::npos) << listed.out;
}

TEST(KafkaCliTest, GroupConsumeCommitsWhatItPrinted) {
  const std::string topic = TestKafka::get().create_topic("cli-group", 1);
  const std::string group = TestKafka::get().unique_name("cli-group");
  produce_numbered(topic, 0, 5);
  const std::string args = "consume " + brokers() + " -G " + group + " -e -f '%s\\n' " + topic;
  CommandResult first = run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "p0-0\np0-1\np0-2\np0-3\np0-4\n");

  produce_numbered(topic, 0, 2);  // p0-0, p0-1 again, at offsets 5 and 6
  CommandResult second = run(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "p0-0\np0-1\n") << "the group resumes after what it printed";

  CommandResult bad = run("consume " + brokers() + " -G " + group + " -e " + topic + ":0:1");
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad.err;
  EXPECT_NE(bad.err.find("-G"), std::string::npos) << bad.err;
}

TEST(KafkaCliTest, GroupConsumeHonoursTopicPrefixedOffsetReset) {
  const std::string topic = TestKafka::get().create_topic("cli-reset", 1);
  produce_numbered(topic, 0, 3);
  // librdkafka's topic-level name and TensorFlow I/O's prefix both name
  // auto.offset.reset: a new group told `latest` starts at the end.
  for (const std::string prefix : {"topic.", "conf.topic.", ""}) {
    const std::string group = TestKafka::get().unique_name("cli-reset");
    CommandResult r = run("consume " + brokers() + " -G " + group + " -X " + prefix +
                          "auto.offset.reset=latest -e -f '%s\\n' " + topic);
    ASSERT_EQ(r.exit_code, 0) << prefix << ": " << r.err;
    EXPECT_EQ(r.out, "") << prefix << "auto.offset.reset=latest must start a new group at the end";
  }
  CommandResult earliest = run("consume " + brokers() + " -G " + TestKafka::get().unique_name("cli-reset") +
                               " -X topic.auto.offset.reset=earliest -e -f '%s\\n' " + topic);
  ASSERT_EQ(earliest.exit_code, 0) << earliest.err;
  EXPECT_EQ(earliest.out, "p0-0\np0-1\np0-2\n");
}

TEST(KafkaCliTest, NoConfigWarningFromPropertiesTheUserDidNotGive) {
  const std::string topic = TestKafka::get().create_topic("cli-confwarn", 1);
  TempDir dir;
  std::string csv;
  for (int i = 0; i < 40; ++i) csv += std::to_string(i % 7) + "," + std::to_string(i % 3) + "," + std::to_string(i % 2) + "\n";
  CommandResult produced = run("produce " + brokers() + " -X linger.ms=1 -t " + topic, csv);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_EQ(produced.err.find("CONFWARN"), std::string::npos) << produced.err;

  // Consumer properties reach the connectivity probe (a producer) too.
  CommandResult consumed = run("consume " + brokers() + " -G " + TestKafka::get().unique_name("cli-confwarn") +
                               " -X auto.offset.reset=earliest -X fetch.min.bytes=1 -e -c 40 -f '%s\\n' " + topic);
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(consumed.err.find("CONFWARN"), std::string::npos) << consumed.err;

  // train --online gives its consumer config to its metrics producer.
  CommandResult trained = run("train " + brokers() + " --online -G " + TestKafka::get().unique_name("cli-confwarn") +
                              " --topic " + topic + " --decode csv:columns=3,label=2 --task binary --model linear" +
                              " --batch-size 8 --stream-timeout 1500 --metrics-topic " +
                              TestKafka::get().unique_name("cli-confwarn-metrics") + " --save " +
                              shell_quote(dir.path() + "/online.smlm"));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_EQ(trained.err.find("CONFWARN"), std::string::npos) << trained.err;
}

TEST(KafkaCliTest, PartitionCountsAreBoundedNamingTheOption) {
  CommandResult huge = run("topics create -b embedded -p 100000000 huge");
  EXPECT_EQ(huge.exit_code, kExitUsage) << huge.err;
  EXPECT_NE(huge.err.find("--partitions"), std::string::npos) << huge.err;
  EXPECT_NE(huge.err.find("100000"), std::string::npos) << huge.err;

  const std::string name = TestKafka::get().unique_name("cli-too-many");
  if (TestKafka::get().embedded() != nullptr) {
    CommandResult embedded = run("topics create " + brokers() + " -p 5000 " + name);
    EXPECT_EQ(embedded.exit_code, kExitUsage) << embedded.err;
    EXPECT_NE(embedded.err.find("-p 5000"), std::string::npos) << embedded.err;
    EXPECT_NE(embedded.err.find("at most " + std::to_string(EmbeddedCluster::kMaxPartitions)), std::string::npos)
        << embedded.err;
  }
  CommandResult broker = run("broker --topic big:100000000");
  EXPECT_EQ(broker.exit_code, kExitUsage) << broker.err;
  EXPECT_NE(broker.err.find("--topic 'big:100000000'"), std::string::npos) << broker.err;
  EXPECT_NE(broker.err.find(std::to_string(EmbeddedCluster::kMaxPartitions)), std::string::npos) << broker.err;

  // The cluster the tests share is still there.
  EXPECT_EQ(Admin(TestKafka::get().config()).describe_topic(TestKafka::get().create_topic("cli-after", 1))
                .partitions.size(),
            1u);
}

TEST(KafkaCliTest, ConsumeReadsSeveralRangesOfOnePartitionInOrder) {
  const std::string topic = TestKafka::get().create_topic("cli-multirange", 2);
  produce_numbered(topic, 0, 10);
  produce_numbered(topic, 1, 3);
  CommandResult split = run("consume " + brokers() + " -e -f '%o ' " + topic + ":0:0:4 " + topic + ":0:5:-1");
  ASSERT_EQ(split.exit_code, 0) << split.err;
  EXPECT_EQ(split.out, "0 1 2 3 4 5 6 7 8 9 ");

  CommandResult bounded = run("consume " + brokers() + " -f '%o ' " + topic + ":0:0:4 " + topic + ":0:5:9");
  ASSERT_EQ(bounded.exit_code, 0) << bounded.err;
  EXPECT_EQ(bounded.out, "0 1 2 3 4 5 6 7 8 9 ");

  CommandResult backwards = run("consume " + brokers() + " -f '%o ' " + topic + ":0:6:7 " + topic + ":0:1:2");
  ASSERT_EQ(backwards.exit_code, 0) << backwards.err;
  EXPECT_EQ(backwards.out, "6 7 1 2 ");

  CommandResult overlapping =
      run("consume " + brokers() + " -f '%o ' " + topic + ":0:0:2 " + topic + ":0:1:3 " + topic + ":0:3:3");
  ASSERT_EQ(overlapping.exit_code, 0) << overlapping.err;
  EXPECT_EQ(overlapping.out, "0 1 2 1 2 3 3 ");

  // With another partition in between: each partition's ranges stay in order.
  CommandResult mixed = run("consume " + brokers() + " -f '%p:%o\\n' " + topic + ":0:8:9 " + topic + ":1:0:2 " +
                            topic + ":0:0:0");
  ASSERT_EQ(mixed.exit_code, 0) << mixed.err;
  std::vector<std::string> p0;
  for (const auto& line : lines(mixed.out)) {
    if (line.rfind("0:", 0) == 0) p0.push_back(line);
  }
  EXPECT_EQ(p0, (std::vector<std::string>{"0:8", "0:9", "0:0"})) << mixed.out;
  EXPECT_EQ(lines(mixed.out).size(), 6u) << mixed.out;
}

TEST(KafkaCliTest, GroupConsumeStopsWhenTheStreamIsIdle) {
  const std::string topic = TestKafka::get().create_topic("cli-idle", 1);
  const std::string group = TestKafka::get().unique_name("cli-idle");
  produce_numbered(topic, 0, 3);
  const std::string args = "consume " + brokers() + " -G " + group + " --stream-timeout 1500 -f '%s\\n' " + topic;
  CommandResult first = run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "p0-0\np0-1\np0-2\n");
  CommandResult second = run(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "") << "the first run committed what it printed";

  // Validated as train --online's, naming the flag.
  for (const std::string& command : {"consume " + brokers() + " -G " + group + " " + topic,
                                    "train " + brokers() + " --online -G " + group + " --topic " + topic}) {
    CommandResult bad = run(command + " --stream-timeout -5");
    EXPECT_EQ(bad.exit_code, kExitUsage) << command << ": " << bad.err;
    EXPECT_NE(bad.err.find("--stream-timeout"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("-5 is invalid"), std::string::npos) << bad.err;
    EXPECT_EQ(bad.err.find("stream_timeout"), std::string::npos) << "names the flag, not the field: " << bad.err;
  }
}

TEST(KafkaCliTest, CountMustBeAtLeastOne) {
  const std::string topic = TestKafka::get().create_topic("cli-count", 1);
  produce_numbered(topic, 0, 3);
  for (const std::string count : {"0", "-5"}) {
    CommandResult r = run("consume " + brokers() + " -e -c " + count + " " + topic);
    EXPECT_EQ(r.exit_code, kExitUsage) << "-c " << count << ": " << r.err;
    EXPECT_NE(r.err.find("count"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("at least 1"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(KafkaCliTest, BrokerHelpStatesTheEmbeddedClustersLimits) {
  // librdkafka 2.0.2's mock names controller id 0, which is no broker: other
  // clients' admin requests fail, and users must learn it from --help.
  CommandResult help = run("broker --help");
  ASSERT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("controller id 0"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Broker 0 not found"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("streamml topics create"), std::string::npos) << help.out;
}

TEST(KafkaCliTest, GroupConsumeReportsRecordsLostToRetention) {
  if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB retention";
  const std::string topic = TestKafka::get().create_topic("cli-group-loss", 1);
  const std::string reporting = TestKafka::get().unique_name("cli-group-loss");
  const std::string failing = TestKafka::get().unique_name("cli-group-loss-fail");
  produce_numbered(topic, 0, 3);
  for (const std::string& group : {reporting, failing}) {
    CommandResult r = run("consume " + brokers() + " -G " + group + " -e -f '%o\\n' " + topic);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.out, "0\n1\n2\n");
  }
  streamml::testing::produce_to(topic, 0, std::vector<std::string>(1024, std::string(8 * 1024, 'r')));
  const Watermarks w = streamml::testing::watermarks(topic, 0);
  ASSERT_GT(w.low, 3);
  const std::string lost = "records 3.." + std::to_string(w.low - 1) + " of " + topic + ":0 were removed by retention";

  CommandResult report = run("consume " + brokers() + " -G " + reporting + " -c 1 -f '%o\\n' " + topic);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(report.out, std::to_string(w.low) + "\n") << "goes on from the log start";
  EXPECT_NE(report.err.find(lost), std::string::npos) << report.err;

  CommandResult fail = run("consume " + brokers() + " -G " + failing + " --on-data-loss fail -c 1 -f '%o\\n' " + topic);
  EXPECT_EQ(fail.exit_code, 1) << fail.err;
  EXPECT_NE(fail.err.find(lost), std::string::npos) << fail.err;
  EXPECT_EQ(fail.out, "") << "nothing may be printed in place of the lost records";
}

TEST(KafkaCliTest, OnlineTrainingStopsOnRecordsLostToRetentionWhenAsked) {
  if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB retention";
  const std::string topic = TestKafka::get().create_topic("cli-train-loss", 1);
  const std::string group = TestKafka::get().unique_name("cli-train-loss");
  streamml::testing::produce_to(topic, 0, {"1,2,0", "2,1,1", "3,3,0"});
  CommandResult committed = run("consume " + brokers() + " -G " + group + " -e " + topic);
  ASSERT_EQ(committed.exit_code, 0) << committed.err;
  streamml::testing::produce_to(topic, 0, std::vector<std::string>(1024, std::string(8 * 1024, 'r')));
  const Watermarks w = streamml::testing::watermarks(topic, 0);
  ASSERT_GT(w.low, 3);
  TempDir dir;
  CommandResult trained = run("train " + brokers() + " --online -G " + group + " --topic " + topic +
                              " --decode csv:columns=3,label=2 --task binary --model linear --stream-timeout 3000" +
                              " --on-data-loss fail --save " + shell_quote(dir.path() + "/online.smlm"));
  EXPECT_EQ(trained.exit_code, 1) << trained.err;
  EXPECT_NE(trained.err.find("records 3.." + std::to_string(w.low - 1) + " of " + topic + ":0 were removed by retention"),
            std::string::npos)
      << trained.err;
}

}  // namespace
}  // namespace streamml::kafka
