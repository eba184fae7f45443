// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve::Server in this process against the embedded cluster (or
// STREAMML_TEST_BOOTSTRAP): end-to-end values, order and keys, graceful
// shutdown commits, dead letters, hot reload, exactly-once, /metrics.
#include "streamml/serve/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <set>
#include <thread>

#include "integration/serve_support.h"
#include "support/free_port.h"
#include "support/prediction_json.h"
#include "streamml/common/error.h"
#include "streamml/data/dead_letter.h"
#include "streamml/model/predictions.h"
#include "streamml/serve/model_processor.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::Output;
using testing::ServerThread;
using testing::TestKafka;


ServerOptions options_for(const std::string& in, const std::string& out, const std::string& group) {
  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = group;
  o.max_batch = 64;
  o.max_wait_us = 2000;
  o.metrics_interval_ms = 0;
  o.kafka = TestKafka::get().config();
  return o;
}

// The model's own JSON prediction for serve_row(i), predicted alone (compare
// with same_prediction(): serve predicts it in a batch).
std::string expected_json(model::Model& m, int i) {
  return model::format_json(m.predict(testing::serve_batch({i})), 0);
}

TEST(ServeServer, EveryRecordGetsItsPredictionInOrderAndShutdownCommits) {
  constexpr int kPartitions = 4, kRecords = 400;
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-in", kPartitions);
  const std::string out = kafka.create_topic("serve-out", kPartitions);
  const std::string group = kafka.unique_name("serve-group");
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  model::Model reference = testing::make_serve_model(11);
  reference.save(path);
  testing::produce_rows(in, 0, kRecords, kPartitions);

  ServerOptions o = options_for(in, out, group);
  o.metrics_port = testing::free_port();
  ServerThread st(o, path);
  testing::OutputReader reader(out, kPartitions);
  const auto& outputs = reader.read_at_least(kRecords);
  ASSERT_EQ(outputs.size(), static_cast<size_t>(kRecords)) << st.error();

  const std::string version = st.server().stats().model_version;
  std::map<int32_t, int64_t> last_offset;
  std::set<int> seen;
  for (const Output& o : outputs) {
    const int i = static_cast<int>(o.source_offset()) * kPartitions + o.source_partition();
    ASSERT_TRUE(seen.insert(i).second) << "duplicate output for record " << i;
    EXPECT_EQ(o.partition, o.source_partition()) << "output partition follows the input partition";
    EXPECT_EQ(o.header("streamml.source.topic"), in);
    EXPECT_EQ(o.header(kHeaderModelVersion), version);
    EXPECT_NE(o.header("streamml.source.timestamp"), "<none>");
    ASSERT_TRUE(o.key.has_value());
    EXPECT_EQ(*o.key, "k" + std::to_string(i));
    EXPECT_TRUE(testing::same_prediction(o.value, expected_json(reference, i))) << "record " << i;
    // Per-partition order: source offsets increase with output offsets.
    auto it = last_offset.find(o.partition);
    if (it != last_offset.end()) {
      EXPECT_GT(o.source_offset(), it->second);
    }
    last_offset[o.partition] = o.source_offset();
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));

  // /metrics and /healthz answer while serving.
  httplib::Client http("127.0.0.1", o.metrics_port);
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health) << "no answer on port " << o.metrics_port;
  EXPECT_EQ(health->status, 200);
  // Outputs are acknowledged before their micro-batch retires (and is counted
  // in records_in and /metrics): wait for both.
  ASSERT_TRUE(testing::wait_for([&] {
    const ServerStats s = st.server().stats();
    return s.records_out == kRecords && s.records_in == kRecords;
  }, 10s));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("streamml_serve_records_total 400\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("streamml_serve_latency_seconds_count 400\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("streamml_serve_model_info{version=\"" + version + "\"} 1"), std::string::npos);

  st.stop();
  EXPECT_EQ(st.error(), "");
  const ServerStats stats = st.server().stats();
  EXPECT_EQ(stats.records_in, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_FALSE(stats.running);
  // Graceful shutdown committed everything it served.
  EXPECT_EQ(testing::committed_offsets(group, in, kPartitions),
            std::vector<int64_t>(kPartitions, kRecords / kPartitions));
}

TEST(ServeServer, BadRecordsGoToTheDeadLetterTopicAndTheRestIsServed) {
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-dl-in", 1);
  const std::string out = kafka.create_topic("serve-dl-out", 1);
  const std::string dlq = kafka.create_topic("serve-dl-dlq", 1);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(3).save(path);
  // good, not a number, too few columns, good, NaN (non-finite), good
  const std::vector<std::string> values = {testing::serve_row(0), "x,1,2,3", "1,2",
                                           testing::serve_row(3), "nan,1,2,3", testing::serve_row(5)};
  testing::produce_values(in, values, 0);

  ServerOptions o = options_for(in, out, kafka.unique_name("serve-dl"));
  o.dead_letter_topic = dlq;
  ServerThread st(o, path);
  testing::OutputReader outputs(out, 1);
  testing::OutputReader dead(dlq, 1);
  const auto& good = outputs.read_at_least(3);
  const auto& bad = dead.read_at_least(3);
  ASSERT_EQ(good.size(), 3u) << st.error();
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(good[0].source_offset(), 0);
  EXPECT_EQ(good[1].source_offset(), 3);
  EXPECT_EQ(good[2].source_offset(), 5);
  const std::vector<int64_t> bad_offsets = {1, 2, 4};
  for (size_t i = 0; i < 3; ++i) {
    const int64_t off = bad_offsets[i];
    EXPECT_EQ(bad[i].value, values[static_cast<size_t>(off)]) << "original bytes";
    EXPECT_EQ(bad[i].key, "v" + std::to_string(off)) << "original key";
    EXPECT_EQ(bad[i].header(data::kHeaderSourceTopic), in);
    EXPECT_EQ(bad[i].header(data::kHeaderSourcePartition), "0");
    EXPECT_EQ(bad[i].header(data::kHeaderSourceOffset), std::to_string(off));
    EXPECT_NE(bad[i].header(data::kHeaderError), "<none>");
  }
  EXPECT_NE(bad[0].header(data::kHeaderError).find("not a number"), std::string::npos)
      << bad[0].header(data::kHeaderError);
  EXPECT_NE(bad[2].header(data::kHeaderError).find("not finite"), std::string::npos)
      << bad[2].header(data::kHeaderError);
  st.stop();
  const ServerStats stats = st.server().stats();
  EXPECT_EQ(stats.records_in, 6u);
  EXPECT_EQ(stats.rejected, 3u);
  EXPECT_EQ(stats.dead_lettered, 3u);
  EXPECT_EQ(stats.records_out, 3u);
  EXPECT_EQ(testing::committed_offsets(o.group, in, 1), std::vector<int64_t>{6});
}

TEST(ServeServer, WithoutDeadLetterTopicBadRecordsAreCountedAndSkipped) {
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-nodl-in", 1);
  const std::string out = kafka.create_topic("serve-nodl-out", 1);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(3).save(path);
  testing::produce_values(in, {"garbage", testing::serve_row(1)}, 0);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-nodl"));
  ServerThread st(o, path);
  testing::OutputReader outputs(out, 1);
  ASSERT_EQ(outputs.read_at_least(1).size(), 1u) << st.error();
  EXPECT_EQ(outputs.outputs()[0].source_offset(), 1);
  ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().batches > 0; }, 10s));
  st.stop();
  EXPECT_EQ(st.server().stats().rejected, 1u);
  EXPECT_EQ(st.server().stats().dead_lettered, 0u);
  EXPECT_EQ(testing::committed_offsets(o.group, in, 1), std::vector<int64_t>{2});
}

TEST(ServeServer, AssignedPartitionsIsTheInputPartitionCountWhileRunning) {
  constexpr int kPartitions = 3;
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-assigned-in", kPartitions);
  const std::string out = kafka.create_topic("serve-assigned-out", 1);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(4).save(path);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-assigned"));
  ServerThread st(o, path);
  // The only member of its group gets every input partition once it joined.
  ASSERT_TRUE(testing::wait_for(
      [&] { return st.server().stats().assigned_partitions == static_cast<size_t>(kPartitions); }, 60s))
      << "assigned " << st.server().stats().assigned_partitions << " " << st.error();
  // And serves them: a record produced now gets its output.
  testing::produce_rows(in, 0, kPartitions, kPartitions);
  testing::OutputReader reader(out, 1);
  EXPECT_EQ(reader.read_at_least(kPartitions).size(), static_cast<size_t>(kPartitions));
  st.stop();
  EXPECT_EQ(st.error(), "");
  // Leaving the group revoked them.
  EXPECT_EQ(st.server().stats().assigned_partitions, 0u);
}

TEST(ServeServer, HotReloadSwapsTheModelBetweenBatchesWithoutDroppingRecords) {
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-reload-in", 2);
  const std::string out = kafka.create_topic("serve-reload-out", 2);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  model::Model first = testing::make_serve_model(21);
  model::Model second = testing::make_serve_model(22);
  first.save(path);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-reload"));
  o.watch_path = path;
  o.watch_interval_ms = 50;
  ServerThread st(o, path);
  testing::OutputReader reader(out, 2);

  testing::produce_rows(in, 0, 50, 2);
  ASSERT_EQ(reader.read_at_least(50).size(), 50u) << st.error();
  const std::string v1 = st.server().stats().model_version;
  second.save(path);  // atomic replace: the watcher sees a new mtime
  ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().reloads == 1; }, 10s));
  const std::string v2 = st.server().stats().model_version;
  EXPECT_NE(v1, v2);
  testing::produce_rows(in, 50, 100, 2);
  ASSERT_EQ(reader.read_at_least(100).size(), 100u);

  // A broken file keeps the current model serving (SIGHUP-style reload()).
  {
    std::ofstream(path, std::ios::trunc) << "not a model";
  }
  st.server().reload();
  ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().reload_failures >= 1; }, 10s));
  EXPECT_EQ(st.server().stats().model_version, v2);
  testing::produce_rows(in, 100, 110, 2);
  const auto& outputs = reader.read_at_least(110);
  ASSERT_EQ(outputs.size(), 110u);
  std::set<int> seen;
  for (const Output& o : outputs) {
    const int i = static_cast<int>(o.source_offset()) * 2 + o.source_partition();
    seen.insert(i);
    model::Model& m = i < 50 ? first : second;
    EXPECT_EQ(o.header(kHeaderModelVersion), i < 50 ? v1 : v2) << "record " << i;
    EXPECT_TRUE(testing::same_prediction(o.value, expected_json(m, i))) << "record " << i;
  }
  EXPECT_EQ(seen.size(), 110u);
}

// A reload to a model of another feature count or task would dead-letter
// every input (or change what readers get): it is refused, the old model
// keeps serving, and /metrics counts the failure.
TEST(ServeServer, HotReloadRefusesAModelOfAnotherShapeAndKeepsServing) {
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-reshape-in", 1);
  const std::string out = kafka.create_topic("serve-reshape-out", 1);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  model::Model first = testing::make_serve_model(31);
  first.save(path);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-reshape"));
  ServerThread st(o, path);
  testing::OutputReader reader(out, 1);
  testing::produce_rows(in, 0, 10, 1);
  ASSERT_EQ(reader.read_at_least(10).size(), 10u) << st.error();
  const std::string v1 = st.server().stats().model_version;

  // Five features instead of four.
  model::ModelConfig wide;
  wide.task = model::Task::multiclass(3);
  wide.features.num_features = 5;
  wide.features.feature_names = {"a", "b", "c", "d", "e"};
  wide.features.decoder_spec = "csv:names=a+b+c+d+e+y,label=y";
  wide.spec = model::parse_model_spec("mlp:8");
  model::Model::create(wide).save(path);
  st.server().reload();
  ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().reload_failures + st.server().stats().reloads >= 1; },
                                30s));
  EXPECT_EQ(st.server().stats().reloads, 0u);
  EXPECT_EQ(st.server().stats().reload_failures, 1u);
  EXPECT_EQ(st.server().stats().model_version, v1);

  // Another task (binary instead of multiclass:3), same features.
  testing::make_serve_model(32, model::Task::binary()).save(path);
  st.server().reload();
  ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().reload_failures + st.server().stats().reloads >= 2; },
                                30s));
  EXPECT_EQ(st.server().stats().reloads, 0u);
  EXPECT_EQ(st.server().stats().reload_failures, 2u);
  EXPECT_NE(st.server().metrics_text().find("streamml_serve_reload_failures_total 2\n"), std::string::npos);

  // The old model still serves every input.
  testing::produce_rows(in, 10, 20, 1);
  const auto& outputs = reader.read_at_least(20);
  ASSERT_EQ(outputs.size(), 20u) << st.error();
  for (const Output& out_record : outputs) {
    const int i = static_cast<int>(out_record.source_offset());
    EXPECT_EQ(out_record.header(kHeaderModelVersion), v1) << "record " << i;
    EXPECT_TRUE(testing::same_prediction(out_record.value, expected_json(first, i))) << "record " << i;
  }
  EXPECT_EQ(st.server().stats().rejected, 0u);
}

TEST(ServeServer, ExactlyOnceCommitsOffsetsWithTheOutputs) {
  constexpr int kPartitions = 2, kRecords = 300;
  auto& kafka = TestKafka::get();
  const std::string in = kafka.create_topic("serve-eos-in", kPartitions);
  const std::string out = kafka.create_topic("serve-eos-out", kPartitions);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(5).save(path);
  testing::produce_rows(in, 0, kRecords, kPartitions);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-eos"));
  o.exactly_once = true;
  o.instance_id = "test";
  ServerThread st(o, path);
  testing::OutputReader reader(out, kPartitions);
  const auto& outputs = reader.read_at_least(kRecords);
  ASSERT_EQ(outputs.size(), static_cast<size_t>(kRecords)) << st.error();
  std::set<int> seen;
  for (const Output& o : outputs) seen.insert(static_cast<int>(o.source_offset()) * kPartitions + o.source_partition());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
  // The transaction that carried the last outputs also carried the offsets.
  ASSERT_TRUE(testing::wait_for(
      [&] {
        return testing::committed_offsets(o.group, in, kPartitions) ==
               std::vector<int64_t>(kPartitions, kRecords / kPartitions);
      },
      20s))
      << ::testing::PrintToString(testing::committed_offsets(o.group, in, kPartitions));
  st.stop();
  EXPECT_EQ(st.error(), "");
  const ServerStats stats = st.server().stats();
  EXPECT_EQ(stats.aborted_transactions, 0u);
  EXPECT_EQ(stats.records_in, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(stats.records_received, stats.records_in);
  EXPECT_EQ(stats.records_in_flight, 0u);
}

// Fault hooks of the embedded cluster, undone on destruction: a round-trip
// time on every broker and injected produce errors.
class Faults {
 public:
  explicit Faults(kafka::EmbeddedCluster* cluster) : cluster_(cluster) {}
  ~Faults() {
    cluster_->clear_request_errors(kafka::ApiKey::kProduce);
    set_round_trip_time(0ms);
  }
  void set_round_trip_time(std::chrono::milliseconds rtt) {
    for (int32_t id : cluster_->broker_ids()) cluster_->set_round_trip_time(id, rtt);
  }

 private:
  kafka::EmbeddedCluster* cluster_;
};

// Outputs of `topic` by source partition, in output order; checks that each
// partition's outputs answer source offsets 0, 1, 2, ... in order, once each
// (pipelining keeps per-partition order), and returns their count per partition.
std::vector<int64_t> check_contiguous_outputs(const std::string& topic, int partitions) {
  std::vector<int64_t> count(static_cast<size_t>(partitions), 0);
  for (const testing::ReadRecord& r : testing::read_all(topic)) {
    int32_t source_partition = -1;
    int64_t source_offset = -1;
    for (const auto& h : r.headers) {
      if (h.name == data::kHeaderSourcePartition) source_partition = std::stoi(h.value.value_or("-1"));
      if (h.name == data::kHeaderSourceOffset) source_offset = std::stoll(h.value.value_or("-1"));
    }
    EXPECT_EQ(source_partition, r.partition) << "output " << r.partition << ":" << r.offset;
    if (source_partition != r.partition) continue;
    int64_t& next = count[static_cast<size_t>(r.partition)];
    EXPECT_EQ(source_offset, next) << "output " << r.partition << ":" << r.offset << " out of order or duplicated";
    next = source_offset + 1;
  }
  return count;
}

TEST(ServeServer, GracefulStopWithBatchesInFlightCommitsExactlyWhatWasAcknowledged) {
  constexpr int kPartitions = 4, kWarm = 40, kRecords = 840;
  auto& kafka = TestKafka::get();
  if (kafka.embedded() == nullptr) GTEST_SKIP() << "needs the embedded cluster's round-trip hook";
  const std::string in = kafka.create_topic("serve-inflight-in", kPartitions);
  const std::string out = kafka.create_topic("serve-inflight-out", kPartitions);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(7).save(path);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-inflight"));
  o.max_batch = 16;
  o.max_in_flight = 64;  // up to 4 micro-batches in flight
  Faults faults(kafka.embedded());
  {
    ServerThread st(o, path);
    testing::produce_rows(in, 0, kWarm, kPartitions);
    ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().records_out >= kWarm; }, 60s)) << st.error();
    // Slow acknowledgements: several micro-batches are in flight at any time.
    faults.set_round_trip_time(100ms);
    testing::produce_rows(in, kWarm, kRecords, kPartitions);
    ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().records_out >= 2 * kWarm; }, 60s)) << st.error();
    st.stop();
    EXPECT_EQ(st.error(), "");
    faults.set_round_trip_time(0ms);
    const std::vector<int64_t> served = check_contiguous_outputs(out, kPartitions);
    // Every output produced before the stop was awaited and committed, and
    // nothing else was.
    EXPECT_EQ(testing::committed_offsets(o.group, in, kPartitions), served);
    int64_t total = 0;
    for (int64_t n : served) total += n;
    EXPECT_EQ(st.server().stats().records_out, static_cast<uint64_t>(total));
    EXPECT_EQ(st.server().stats().records_in, static_cast<uint64_t>(total));
  }
}

TEST(ServeServer, AFailedDeliveryMidPipelineStopsTheServerAndCommitsNothingPastIt) {
  constexpr int kWarm = 50, kRecords = 600;
  constexpr int kTopicAuthorizationFailed = 29;  // not retriable
  auto& kafka = TestKafka::get();
  if (kafka.embedded() == nullptr) GTEST_SKIP() << "needs the embedded cluster's produce-error hook";
  const std::string in = kafka.create_topic("serve-fail-in", 1);
  const std::string out = kafka.create_topic("serve-fail-out", 1);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(8).save(path);
  ServerOptions o = options_for(in, out, kafka.unique_name("serve-fail"));
  o.max_batch = 10;
  o.max_in_flight = 30;  // up to 3 micro-batches in flight
  // A failed output must stay failed (no idempotent retry that could mend it).
  o.kafka.set("enable.idempotence", "false");
  o.kafka.set("retries", "0");
  Faults faults(kafka.embedded());
  std::string error;
  {
    ServerThread st(o, path);
    testing::produce_rows(in, 0, kWarm, 1);
    ASSERT_TRUE(testing::wait_for([&] { return st.server().stats().records_out >= kWarm; }, 60s)) << st.error();
    faults.set_round_trip_time(50ms);
    testing::produce_rows(in, kWarm, kRecords, 1);
    // The server's next produce request succeeds, the one after fails; later
    // ones (already in flight) may succeed.
    kafka.embedded()->push_request_errors(kafka::ApiKey::kProduce, {0, kTopicAuthorizationFailed});
    ASSERT_TRUE(testing::wait_for([&] { return !st.server().stats().running; }, 120s));
    st.stop();
    error = st.error();
    faults.set_round_trip_time(0ms);
  }  // the server's producer is closed: the output topic is final
  // The failure shows either as a failed delivery report or, when librdkafka
  // already knows the topic failed, as a refusal of a later produce() call.
  EXPECT_TRUE(error.find("not delivered") != std::string::npos ||
              error.find("refused by the producer") != std::string::npos)
      << error;
  EXPECT_NE(error.find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos) << error;
  // Source offsets answered, in order; the first missing one is the failure.
  std::vector<int64_t> answered;
  for (const testing::ReadRecord& r : testing::read_all(out)) {
    for (const auto& h : r.headers) {
      if (h.name == data::kHeaderSourceOffset) answered.push_back(std::stoll(h.value.value_or("-1")));
    }
  }
  int64_t first_missing = 0;
  while (first_missing < static_cast<int64_t>(answered.size()) && answered[static_cast<size_t>(first_missing)] == first_missing) {
    ++first_missing;
  }
  ASSERT_GE(first_missing, kWarm) << "the warm-up outputs were all delivered";
  ASSERT_LT(first_missing, kRecords) << "an output should have failed";
  const int64_t committed = testing::committed_offsets(o.group, in, 1)[0];
  EXPECT_GE(committed, kWarm);
  EXPECT_LE(committed, first_missing) << "committed past an undelivered output";
}

TEST(ServeServer, OptionsAreValidated) {
  auto factory = model_processor_factory({"unused", OutputFormat::kJson, ""});
  ServerOptions o = options_for("in", "out", "g");
  o.max_batch = 0;
  EXPECT_THROW(Server(o, factory), ConfigError);
  o = options_for("in", "in", "g");
  EXPECT_THROW(Server(o, factory), ConfigError);
  o = options_for("in", "out", "");
  EXPECT_THROW(Server(o, factory), ConfigError);
  o = options_for("in", "out", "g");
  Server bad_model(o, factory);
  EXPECT_THROW(bad_model.run(), InputError);
}

}  // namespace
}  // namespace streamml::serve
