// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// KafkaDataset against a real Kafka protocol peer (the embedded cluster, or
// STREAMML_TEST_BOOTSTRAP). Most cases are TensorFlow I/O's own Kafka test
// suite, written against streamml.
#include "streamml/data/kafka_dataset.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "streamml/common/error.h"
#include "streamml/data/dead_letter.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "support/test_kafka.h"

namespace streamml::data {
namespace {

using testing::TestKafka;

void produce(const std::string& topic, const std::vector<std::string>& values, int partition = -1,
             const std::vector<std::string>& keys = {}) {
  testing::produce_to(topic, partition, values, keys);
}

std::vector<std::string> values_d(int from, int to) {  // D<from>..D<to-1>
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("D" + std::to_string(i));
  return v;
}

KafkaDatasetOptions bounded(std::vector<std::string> ranges, size_t batch = 100) {
  KafkaDatasetOptions o;
  o.config = TestKafka::get().config();
  o.ranges = std::move(ranges);
  o.batch_size = batch;
  return o;
}

KafkaDatasetOptions grouped(const std::string& group, std::vector<std::string> topics, int64_t stream_timeout_ms) {
  KafkaDatasetOptions o;
  o.config = TestKafka::get().config();
  o.config.set("auto.offset.reset", "earliest");
  o.group = group;
  o.topics = std::move(topics);
  o.stream_timeout = std::chrono::milliseconds(stream_timeout_ms);
  o.batch_size = 1000;
  o.batch_wait = std::chrono::milliseconds(50);
  return o;
}

// Every payload of every batch until the end of the epoch.
std::vector<std::string> read_all(KafkaDataset& ds, std::vector<size_t>* batch_sizes = nullptr) {
  std::vector<std::string> out;
  while (auto batch = ds.next()) {
    EXPECT_GT(batch->size, 0u);
    if (batch_sizes) batch_sizes->push_back(batch->size);
    out.insert(out.end(), batch->payloads.begin(), batch->payloads.end());
  }
  return out;
}

class KafkaDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    topic_ = TestKafka::get().create_topic("test", 1);
    produce(topic_, values_d(0, 10), 0);
  }
  std::string topic_;
};

TEST_F(KafkaDatasetTest, BoundedRangesEndInclusive) {
  KafkaDataset first(bounded({topic_ + ":0:0:4"}));
  EXPECT_EQ(read_all(first), values_d(0, 5));
  KafkaDataset second(bounded({topic_ + ":0:5:-1"}));
  EXPECT_EQ(read_all(second), values_d(5, 10));
  KafkaDataset both(bounded({topic_ + ":0:0:4", topic_ + ":0:5:-1"}));
  EXPECT_EQ(read_all(both), values_d(0, 10));
}

TEST_F(KafkaDatasetTest, OneElementRangeIsNotDropped) {
  KafkaDataset ds(bounded({topic_ + ":0:3:3"}));
  EXPECT_EQ(read_all(ds), std::vector<std::string>{"D3"});
}

TEST_F(KafkaDatasetTest, RepeatThenBatchGivesTheSameBatchesEveryPass) {
  auto options = bounded({topic_ + ":0:0:4", topic_ + ":0:5:-1"}, 5);
  options.repeat = 10;
  KafkaDataset ds(options);
  std::vector<size_t> sizes;
  auto all = read_all(ds, &sizes);
  ASSERT_EQ(sizes.size(), 20u);
  for (size_t s : sizes) EXPECT_EQ(s, 5u);
  for (int pass = 0; pass < 10; ++pass) {
    EXPECT_EQ(std::vector<std::string>(all.begin() + pass * 10, all.begin() + pass * 10 + 10), values_d(0, 10));
  }
}

TEST_F(KafkaDatasetTest, EpochsAreDeterministic) {
  KafkaDataset ds(bounded({topic_ + ":0:0:-1"}, 3));
  auto first = read_all(ds);
  for (int epoch = 0; epoch < 4; ++epoch) {
    ds.reset();
    EXPECT_EQ(read_all(ds), first) << "epoch " << epoch;
  }
  EXPECT_EQ(first, values_d(0, 10));
}

TEST_F(KafkaDatasetTest, MetadataCarriesOffsetsPartitionAndTopic) {
  KafkaDataset ds(bounded({topic_ + ":0:2:5"}));
  auto batch = ds.next();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size, 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(batch->meta[i].topic, topic_);
    EXPECT_EQ(batch->meta[i].partition, 0);
    EXPECT_EQ(batch->meta[i].offset, static_cast<int64_t>(2 + i));
    EXPECT_GT(batch->meta[i].timestamp_ms, 0);
  }
  EXPECT_EQ(batch->meta[0].location(), topic_ + ":0:2");
}

TEST_F(KafkaDatasetTest, CheckpointRestoreResumesAtTheNextRecord) {
  auto options = bounded({topic_ + ":0:0:-1"}, 3);
  std::vector<std::string> seen;
  std::string state;
  {
    KafkaDataset ds(options);
    for (int i = 0; i < 2; ++i) {
      auto b = ds.next();
      ASSERT_TRUE(b);
      seen.insert(seen.end(), b->payloads.begin(), b->payloads.end());
    }
    state = ds.state();
  }
  KafkaDataset resumed(options);
  resumed.restore(state);
  auto rest = read_all(resumed);
  seen.insert(seen.end(), rest.begin(), rest.end());
  EXPECT_EQ(seen, values_d(0, 10));  // nothing repeated, nothing skipped
  EXPECT_THROW(resumed.restore("nonsense"), ConfigError);
}

TEST_F(KafkaDatasetTest, RangePastTheNewestOffsetFailsAtOnceUnlessAskedToWait) {
  try {
    KafkaDataset ds(bounded({topic_ + ":0:5:14"}));
    FAIL() << "a range past the newest offset was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(topic_ + ":0 ends at offset 9; the range asks for 5..14"), std::string::npos)
        << e.what();
  }
  auto options = bounded({topic_ + ":0:5:14"});
  options.wait_for_records = true;
  KafkaDataset ds(options);
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    produce(topic_, values_d(10, 20), 0);
  });
  const std::vector<std::string> got = read_all(ds);
  late.join();
  EXPECT_EQ(got, values_d(5, 15));
}

TEST(KafkaDataset, KeyedTopicPerPartition) {
  std::string topic = TestKafka::get().create_topic("keyed", 2);
  for (int p = 0; p < 2; ++p) {
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) keys.push_back("K" + std::to_string(i % 2));
    produce(topic, values_d(p * 10, p * 10 + 10), p, keys);
  }
  for (int p = 0; p < 2; ++p) {
    KafkaDataset ds(bounded({topic + ":" + std::to_string(p) + ":0:-1"}));
    auto batch = ds.next();
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size, 10u);
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(batch->payloads[i], "D" + std::to_string(p * 10 + i));
      EXPECT_TRUE(batch->meta[i].has_key);
      EXPECT_EQ(batch->meta[i].key, "K" + std::to_string(i % 2));
      EXPECT_EQ(batch->meta[i].partition, p);
    }
    EXPECT_FALSE(ds.next());
  }
}

// ---- read-ahead across ranges: emitted strictly in range order ----

// A topic with 3 partitions: partition p holds P<p>-0 .. P<p>-<n-1>.
std::string three_partitions(int per_partition) {
  std::string topic = TestKafka::get().create_topic("ahead", 3);
  for (int p = 0; p < 3; ++p) {
    std::vector<std::string> values;
    for (int i = 0; i < per_partition; ++i) values.push_back("P" + std::to_string(p) + "-" + std::to_string(i));
    produce(topic, values, p);
  }
  return topic;
}

std::vector<std::string> values_p(int p, int from, int to) {  // P<p>-<from> .. P<p>-<to-1>
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("P" + std::to_string(p) + "-" + std::to_string(i));
  return v;
}

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

TEST(KafkaDatasetReadAhead, RangesOfOnePartitionAroundAnotherStayInOrder) {
  const std::string t = three_partitions(10);
  KafkaDataset ds(bounded({t + ":2:0:3", t + ":0:0:4", t + ":2:4:-1", t + ":1:7:8", t + ":0:5:-1"}, 3));
  EXPECT_EQ(read_all(ds), concat({values_p(2, 0, 4), values_p(0, 0, 5), values_p(2, 4, 10), values_p(1, 7, 9),
                                  values_p(0, 5, 10)}));
}

TEST(KafkaDatasetReadAhead, RepeatedAndOverlappingRangesAreReadAgain) {
  const std::string t = three_partitions(10);
  auto options = bounded({t + ":0:0:4", t + ":1:2:3", t + ":0:0:4", t + ":0:3:6", t + ":1:0:-1"}, 4);
  options.repeat = 2;
  KafkaDataset ds(options);
  const auto pass = concat({values_p(0, 0, 5), values_p(1, 2, 4), values_p(0, 0, 5), values_p(0, 3, 7),
                            values_p(1, 0, 10)});
  EXPECT_EQ(read_all(ds), concat({pass, pass}));
  ds.reset();
  EXPECT_EQ(read_all(ds), concat({pass, pass}));
}

// With a read-ahead of one byte every partition that waits is paused after
// its first record and resumed when its range comes: nothing is lost or
// repeated.
TEST(KafkaDatasetReadAhead, PausedPartitionsResumeWhereTheyStopped) {
  const std::string t = three_partitions(300);
  auto options = bounded({t}, 64);
  options.read_ahead_bytes = 1;
  options.repeat = 2;
  KafkaDataset ds(options);
  const auto pass = concat({values_p(0, 0, 300), values_p(1, 0, 300), values_p(2, 0, 300)});
  EXPECT_EQ(read_all(ds), concat({pass, pass}));
  ds.reset();
  EXPECT_EQ(read_all(ds), concat({pass, pass}));
}

// The partition being read is paused too once it holds read_ahead_bytes
// (the reader drains librdkafka's queue into the lanes before every batch),
// and resumed when half of that was read; with any prefetch depth (the
// prefetch thread refills the queue when half of it was taken) every record
// comes once, in order, in every epoch.
TEST(KafkaDatasetReadAhead, PartitionBeingReadPausesAndResumesAtAnyPrefetchDepth) {
  const std::string t = three_partitions(400);
  const auto pass = concat({values_p(0, 0, 400), values_p(1, 0, 400), values_p(2, 0, 400)});
  for (size_t prefetch : {1, 2, 3, 16}) {
    auto options = bounded({t}, 7);
    options.read_ahead_bytes = 3000;  // about 20 records (librdkafka's overhead counted)
    options.prefetch = prefetch;
    KafkaDataset ds(options);
    EXPECT_EQ(read_all(ds), pass) << "prefetch " << prefetch;
    ds.reset();
    EXPECT_EQ(read_all(ds), pass) << "prefetch " << prefetch << ", second epoch";
  }
}

// kafka::Consumer only changes librdkafka's default queued.min.messages; with a
// tiny one given by the user, librdkafka stops fetching (for up to a second)
// whenever a fetch filled its queue: slower, but every record still comes,
// in order.
TEST(KafkaDatasetReadAhead, FullLibrdkafkaQueueLosesNothing) {
  const std::string t = three_partitions(100);
  auto options = bounded({t}, 10);
  options.config.set("queued.min.messages", "1");
  KafkaDataset ds(options);
  EXPECT_EQ(read_all(ds), concat({values_p(0, 0, 100), values_p(1, 0, 100), values_p(2, 0, 100)}));
}

// Reads `batches` batches, saves the state, and reads the rest with a new
// dataset restored from it: every payload, in order.
std::vector<std::string> read_stopped_and_restored(const KafkaDatasetOptions& options, int batches) {
  std::vector<std::string> seen;
  std::string state;
  {
    KafkaDataset ds(options);
    for (int i = 0; i < batches; ++i) {
      auto b = ds.next();
      EXPECT_TRUE(b);
      if (!b) break;
      seen.insert(seen.end(), b->payloads.begin(), b->payloads.end());
    }
    state = ds.state();
  }
  KafkaDataset resumed(options);
  resumed.restore(state);
  auto rest = read_all(resumed);
  seen.insert(seen.end(), rest.begin(), rest.end());
  return seen;
}

TEST(KafkaDatasetReadAhead, TakeAndRestoreInTheMiddleOfALaterRange) {
  const std::string t = three_partitions(50);
  auto options = bounded({t}, 20);
  const auto all = concat({values_p(0, 0, 50), values_p(1, 0, 50), values_p(2, 0, 50)});
  {
    auto take = options;
    take.take = 70;
    KafkaDataset ds(take);
    EXPECT_EQ(read_all(ds), std::vector<std::string>(all.begin(), all.begin() + 70));
    ds.reset();
    EXPECT_EQ(read_all(ds), std::vector<std::string>(all.begin(), all.begin() + 70));
  }
  EXPECT_EQ(read_stopped_and_restored(options, 4), all);  // 80 records: into partition 1
}

TEST(KafkaDataset, DecodesCsvIntoFeaturesAndLabels) {
  std::string topic = TestKafka::get().create_topic("csv", 1);
  std::vector<std::string> rows;
  for (int i = 0; i < 50; ++i) rows.push_back(std::to_string(i) + "," + std::to_string(i * 2) + "," + std::to_string(i % 2));
  produce(topic, rows, 0);
  auto options = bounded({topic}, 16);
  options.decoder = "csv:names=a+b+y,label=y";
  KafkaDataset ds(options);
  EXPECT_EQ(ds.num_features(), 2u);
  EXPECT_EQ(ds.num_labels(), 1u);
  int row = 0;
  while (auto b = ds.next()) {
    EXPECT_TRUE(b->payloads.empty());  // not asked for
    for (size_t i = 0; i < b->size; ++i, ++row) {
      EXPECT_FLOAT_EQ(b->features[i * 2], row);
      EXPECT_FLOAT_EQ(b->features[i * 2 + 1], row * 2);
      EXPECT_FLOAT_EQ(b->labels[i], row % 2);
    }
  }
  EXPECT_EQ(row, 50);
}

TEST(KafkaDataset, BadRecordPolicies) {
  std::string topic = TestKafka::get().create_topic("bad", 1);
  produce(topic, {"1,2", "oops,2", "3,4", "5"}, 0);
  auto options = bounded({topic});
  options.decoder = "csv:names=a+y,label=y";
  {
    KafkaDataset ds(options);  // default: fail, naming the record
    try {
      while (ds.next()) {
      }
      FAIL() << "expected InputError";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(topic + ":0:1"), std::string::npos) << e.what();
    }
  }
  {
    options.bad_records = BadRecordPolicy::kSkip;
    KafkaDataset ds(options);
    size_t rows = 0;
    while (auto b = ds.next()) rows += b->size;
    EXPECT_EQ(rows, 2u);
    EXPECT_EQ(ds.report().count, 2u);
    ASSERT_EQ(ds.report().examples.size(), 2u);
    EXPECT_EQ(ds.report().examples[0].location, topic + ":0:1");
    EXPECT_EQ(ds.report().examples[1].location, topic + ":0:3");
  }
  {
    std::string dlq = TestKafka::get().create_topic("dlq", 1);
    options.bad_records = BadRecordPolicy::kDeadLetter;
    options.dead_letter_topic = dlq;
    {
      KafkaDataset ds(options);
      while (ds.next()) {
      }
      EXPECT_EQ(ds.report().count, 2u);
    }
    KafkaDataset letters(bounded({dlq}));
    auto b = letters.next();
    ASSERT_TRUE(b);
    ASSERT_EQ(b->size, 2u);
    EXPECT_EQ(b->payloads[0], "oops,2");
    EXPECT_EQ(b->payloads[1], "5");
    std::map<std::string, std::string> h;
    for (const auto& header : b->meta[0].headers) h[header.name] = header.value.value_or("");
    EXPECT_EQ(h[kHeaderSourceTopic], topic);
    EXPECT_EQ(h[kHeaderSourcePartition], "0");
    EXPECT_EQ(h[kHeaderSourceOffset], "1");
    EXPECT_FALSE(h[kHeaderError].empty());
  }
}

TEST(KafkaDataset, InvalidOptionsNameTheOption) {
  auto options = grouped("g", {"t"}, -20);
  try {
    KafkaDataset ds(options);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("-20"), std::string::npos) << e.what();
  }
  KafkaDatasetOptions neither;
  neither.config = TestKafka::get().config();
  EXPECT_THROW(KafkaDataset{neither}, ConfigError);
  EXPECT_THROW(KafkaDataset(bounded({"bad topic name"})), ConfigError);
}

TEST(KafkaDataset, MissingTopicOrPartitionIsAClearError) {
  try {
    KafkaDataset ds(bounded({TestKafka::get().unique_name("absent") + ":0:0:4"}));
    FAIL();
  } catch (const kafka::KafkaException& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
  std::string topic = TestKafka::get().create_topic("onepart", 1);
  EXPECT_THROW(KafkaDataset(bounded({topic + ":3"})), kafka::KafkaException);
}

TEST(KafkaDataset, RetentionLossIsReportedNeverSkipped) {
  if (TestKafka::get().external()) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB per partition";
  std::string topic = TestKafka::get().create_topic("retention", 1);
  kafka::Producer producer(TestKafka::get().config());
  std::string payload(10000, 'x');
  for (int i = 0; i < 1200; ++i) {  // ~12 MB into one partition
    kafka::ProduceRecord r;
    r.topic = topic;
    r.partition = 0;
    r.value = payload;
    ASSERT_TRUE(producer.produce(r).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
  try {
    KafkaDataset ds(bounded({topic + ":0:0:1199"}));
    FAIL() << "expected DataLossError";
  } catch (const DataLossError& e) {
    EXPECT_NE(std::string(e.what()).find("records 0.."), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("of " + topic + ":0 are no longer in the log"), std::string::npos)
        << e.what();
  }
}

// ---- decode workers: the same batches, positions and rejections as one thread ----

// What a bounded read returned: every batch's rows and metadata, the state
// after each batch, the bad-record report, and the error that ended it.
struct ReadTrace {
  std::vector<std::vector<float>> features, labels;
  std::vector<std::vector<int64_t>> offsets;
  std::vector<std::string> states;
  uint64_t bad = 0;
  std::vector<std::string> bad_locations;
  std::string error;
};

ReadTrace trace_read(KafkaDatasetOptions options, int threads, int epochs = 2) {
  options.decode_threads = threads;
  ReadTrace trace;
  KafkaDataset ds(options);
  try {
    for (int e = 0; e < epochs; ++e) {
      if (e > 0) ds.reset();
      while (auto b = ds.next()) {
        trace.features.push_back(b->features);
        trace.labels.push_back(b->labels);
        std::vector<int64_t> offsets;
        for (const auto& m : b->meta) offsets.push_back(m.partition * 1000000 + m.offset);
        trace.offsets.push_back(offsets);
        trace.states.push_back(ds.state());
      }
    }
  } catch (const InputError& e) {
    trace.error = e.what();
  }
  trace.bad = ds.report().count;
  for (const auto& example : ds.report().examples) trace.bad_locations.push_back(example.location);
  return trace;
}

void expect_same_trace(const ReadTrace& a, const ReadTrace& b, int threads) {
  SCOPED_TRACE("decode_threads " + std::to_string(threads));
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.states, b.states);
  EXPECT_EQ(a.bad, b.bad);
  EXPECT_EQ(a.bad_locations, b.bad_locations);
  EXPECT_EQ(a.error, b.error);
}

TEST(KafkaDatasetDecodeThreads, WorkersReturnWhatOneThreadReturns) {
  // 3 partitions of "x,y" rows; every 7th record cannot be decoded.
  std::string topic = TestKafka::get().create_topic("threads", 3);
  for (int p = 0; p < 3; ++p) {
    std::vector<std::string> rows;
    for (int i = 0; i < 700; ++i) {
      rows.push_back(i % 7 == 3 ? "bad" : std::to_string(p * 1000 + i) + "," + std::to_string(i % 2));
    }
    produce(topic, rows, p);
  }
  KafkaDatasetOptions base = bounded({topic + ":2", topic + ":0:100:399", topic + ":1", topic + ":0:0:99"}, 64);
  base.decoder = "csv:names=x+y,label=y";
  base.bad_records = BadRecordPolicy::kSkip;
  base.repeat = 2;
  std::vector<KafkaDatasetOptions> cases(5, base);
  cases[1].batch_size = 1000;  // chunks of several ranges' worth of batches
  cases[2].take = 1500;        // ends inside a range
  cases[3].shuffle_buffer = 100;
  cases[3].seed = 7;
  cases[4].bad_records = BadRecordPolicy::kFail;  // fails at 2:3, after the batches before it
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE("case " + std::to_string(c));
    const ReadTrace serial = trace_read(cases[c], 0);
    EXPECT_EQ(serial.offsets.empty(), c == 4);
    for (int threads : {1, 3}) expect_same_trace(serial, trace_read(cases[c], threads), threads);
  }
  const ReadTrace failed = trace_read(cases[4], 2);
  EXPECT_NE(failed.error.find(topic + ":2:3"), std::string::npos) << failed.error;
}

TEST(KafkaDatasetDecodeThreads, RestoreResumesAtTheSameRecord) {
  const std::string t = three_partitions(300);
  auto options = bounded({t}, 50);
  options.decode_threads = 2;
  EXPECT_EQ(read_stopped_and_restored(options, 7),  // 350 records: into partition 1
            concat({values_p(0, 0, 300), values_p(1, 0, 300), values_p(2, 0, 300)}));
}

TEST(KafkaDatasetDecodeThreads, NegativeCountIsAConfigErrorNamingTheOption) {
  auto options = bounded({"t"});
  options.decode_threads = -2;
  try {
    KafkaDataset ds(options);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("decode_threads -2"), std::string::npos) << e.what();
  }
}

// ---- consumer groups (each join takes a few seconds on the embedded cluster) ----

TEST(KafkaGroupDataset, NewGroupReadsAllThenNothingThenOnlyNewRecords) {
  std::string topic = TestKafka::get().create_topic("group", 1);
  produce(topic, values_d(0, 10), 0);
  std::string group = TestKafka::get().unique_name("g");
  {
    KafkaDataset ds(grouped(group, {topic}, 2000));
    EXPECT_EQ(read_all(ds), values_d(0, 10));
    ds.commit();
  }
  {
    KafkaDataset ds(grouped(group, {topic}, 2000));
    EXPECT_TRUE(read_all(ds).empty());
  }
  produce(topic, values_d(10, 100), 0);
  {
    KafkaDataset ds(grouped(group, {topic}, 2000));
    EXPECT_EQ(read_all(ds), values_d(10, 100));
    ds.commit();
  }
  KafkaDataset fresh(grouped(TestKafka::get().unique_name("g"), {topic}, 2000));
  EXPECT_EQ(read_all(fresh), values_d(0, 100));
}

TEST(KafkaGroupDataset, MalformedStateIsAConfigErrorNamingTheState) {
  std::string topic = TestKafka::get().create_topic("badstate", 1);
  KafkaDataset ds(grouped(TestKafka::get().unique_name("g"), {topic}, 2000));
  const std::vector<std::string> states = {"group " + topic + ":x:5", "group " + topic + ":0:",
                                           "group " + topic + ":0:99999999999999999999", "group :5",
                                           "group " + topic + ":-1:5", "bounded 0 0 0"};
  for (const std::string& state : states) {
    try {
      ds.restore(state);
      ADD_FAILURE() << "expected ConfigError for '" << state << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + state + "'"), std::string::npos) << e.what();
    }
  }
  KafkaDataset bounded_ds(bounded({topic}));
  for (const std::string state : {"bounded x 0 0", "bounded -1 0 0", "bounded 0 0 -7", "group"}) {
    EXPECT_THROW(bounded_ds.restore(state), ConfigError) << state;
  }
}

TEST(KafkaGroupDataset, UncommittedRecordsAreReadAgain) {
  std::string topic = TestKafka::get().create_topic("nocommit", 1);
  produce(topic, values_d(0, 10), 0);
  std::string group = TestKafka::get().unique_name("g");
  {
    auto options = grouped(group, {topic}, 2000);
    options.batch_size = 4;
    options.batch_wait = std::chrono::milliseconds(-1);
    KafkaDataset ds(options);
    ASSERT_TRUE(ds.next());  // D0..D3
    ds.commit();
    ASSERT_TRUE(ds.next());  // D4..D7: not committed (a crash here)
  }
  KafkaDataset again(grouped(group, {topic}, 2000));
  EXPECT_EQ(read_all(again), values_d(4, 10));  // at-least-once: nothing lost
}

TEST(KafkaGroupDataset, TwoTopicsInOneGroupAndLatestReadsNothing) {
  std::string a = TestKafka::get().create_topic("ga", 1);
  std::string b = TestKafka::get().create_topic("gb", 1);
  produce(a, values_d(0, 10), 0);
  produce(b, values_d(10, 20), 0);
  {
    KafkaDataset ds(grouped(TestKafka::get().unique_name("g"), {a, b}, 2000));
    auto all = read_all(ds);
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 20u);
    EXPECT_EQ(all.size(), 20u);
  }
  for (const char* key : {"auto.offset.reset", "topic.auto.offset.reset"}) {
    auto options = grouped(TestKafka::get().unique_name("g"), {a}, 1000);
    options.config.erase("auto.offset.reset");
    options.config.set(std::string(key).substr(std::string(key).rfind("auto")), "latest");
    if (std::string(key).rfind("topic.", 0) == 0) {
      options.config.erase("auto.offset.reset");
    }
    KafkaDataset ds(options);
    EXPECT_TRUE(read_all(ds).empty()) << key;
  }
}

TEST(KafkaGroupDataset, StreamTimeoutWaitsForLateRecords) {
  std::string topic = TestKafka::get().create_topic("late", 1);
  std::string group = TestKafka::get().unique_name("g");
  KafkaDataset ds(grouped(group, {topic}, 20000));
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::seconds(6));
    produce(topic, values_d(0, 10), 0);
  });
  std::vector<std::string> got;
  while (got.size() < 10) {
    auto b = ds.next();
    if (!b) break;
    got.insert(got.end(), b->payloads.begin(), b->payloads.end());
  }
  late.join();
  EXPECT_EQ(got, values_d(0, 10));
}

TEST(KafkaGroupDataset, MiniBatchHoldsExactlyBatchSizeWhenRecordsWait) {
  std::string topic = TestKafka::get().create_topic("mini", 1);
  std::vector<std::string> many;
  for (int i = 0; i < 10000; ++i) many.push_back(std::to_string(i));
  produce(topic, many, 0);
  auto options = grouped(TestKafka::get().unique_name("g"), {topic}, 2000);
  options.batch_size = 5000;
  options.batch_wait = std::chrono::milliseconds(1000);
  KafkaDataset ds(options);
  auto first = ds.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size, 5000u);
  size_t total = first->size;
  while (auto b = ds.next()) {
    EXPECT_GT(b->size, 0u);
    EXPECT_LE(b->size, 5000u);
    total += b->size;
  }
  EXPECT_EQ(total, 10000u);
}

}  // namespace
}  // namespace streamml::data
