// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve under faults (issue #7), embedded cluster only:
//  * serve::Server in this process, at-least-once and exactly-once, with each
//    broker fault injected mid-stream (broker down and back, leaders moved,
//    transient Fetch / Produce / OffsetCommit errors, coordinator moved):
//    every input gets an output, per-partition order holds, the server keeps
//    running (inputs produced after the fault are served too) and the
//    committed offsets cover exactly the inputs.
//  * `streamml serve` as a child process SIGKILLed at seeded random points
//    over several rounds, restarted each time: a checker verifies every input
//    offset has an output (source headers), the per-partition order of first
//    occurrences, and that the committed offsets match the outputs.
// The embedded cluster does not filter aborted transactional records, so
// "no duplicates" under exactly-once is not asserted here (it needs a real
// broker, and the fault hooks need the embedded one).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "integration/serve_support.h"
#include "streamml/serve/model_processor.h"
#include "streamml/serve/server.h"
#include "support/fault_support.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::Fault;
using testing::FaultInjector;
using testing::Output;
using testing::ServerThread;
using testing::TestKafka;


// What is wrong with `outputs` for inputs 0..count-1 of every partition
// (produce_rows: input i goes to partition i % partitions), or "".
// Checks that every input offset has an output and that, per partition, the
// first outputs of the inputs come in input order.
std::string check_outputs(const std::vector<Output>& outputs, const std::string& input_topic, int partitions,
                          int count) {
  std::ostringstream problems;
  std::map<int32_t, std::set<int64_t>> served;
  std::map<int32_t, int64_t> last_first;  // per output partition: last first-seen source offset
  for (const Output& o : outputs) {
    if (o.header("streamml.source.topic") != input_topic) {
      problems << "output " << o.partition << ":" << o.offset << " names source topic "
               << o.header("streamml.source.topic") << "\n";
      continue;
    }
    const int32_t p = o.source_partition();
    const int64_t off = o.source_offset();
    if (!served[p].insert(off).second) continue;  // a repeat (at-least-once)
    auto it = last_first.find(o.partition);
    if (it != last_first.end() && off <= it->second) {
      problems << "order: input " << p << ":" << off << " first served after " << p << ":" << it->second << "\n";
    }
    last_first[o.partition] = off;
  }
  for (int p = 0; p < partitions; ++p) {
    const int64_t expected = count / partitions + (p < count % partitions ? 1 : 0);
    std::vector<int64_t> missing;
    for (int64_t off = 0; off < expected; ++off) {
      if (!served[p].count(off)) missing.push_back(off);
    }
    if (!missing.empty()) {
      problems << missing.size() << " input(s) of " << input_topic << ":" << p << " have no output, first at offset "
               << missing.front() << "\n";
    }
  }
  return problems.str();
}

size_t distinct_served(const std::vector<Output>& outputs) {
  std::set<std::pair<int32_t, int64_t>> s;
  for (const Output& o : outputs) s.insert({o.source_partition(), o.source_offset()});
  return s.size();
}

std::vector<int64_t> per_partition(int count, int partitions) {
  std::vector<int64_t> out;
  for (int p = 0; p < partitions; ++p) out.push_back(count / partitions + (p < count % partitions ? 1 : 0));
  return out;
}

// --- In-process Server x broker faults ---------------------------------------------

struct ServeFaultCase {
  Fault fault;
  bool exactly_once;
};

class ServeFaultTest : public ::testing::TestWithParam<ServeFaultCase> {
 protected:
  void SetUp() override {
    cluster_ = TestKafka::get().embedded();
    if (cluster_ == nullptr) GTEST_SKIP() << "fault hooks need the embedded cluster (STREAMML_TEST_BOOTSTRAP is set)";
  }
  kafka::EmbeddedCluster* cluster_ = nullptr;
};

TEST_P(ServeFaultTest, EveryInputGetsAnOutputAndServingGoesOn) {
  constexpr int kPartitions = 2, kFirst = 300, kSecond = 600, kTotal = 800;
  const auto [fault, exactly_once] = GetParam();
  auto& kafka = TestKafka::get();
  const std::string name = std::string("serve-fault-") + testing::fault_name(fault) + (exactly_once ? "-eos" : "");
  const std::string in = kafka.create_topic(name + "-in", kPartitions);
  const std::string out = kafka.create_topic(name + "-out", kPartitions);
  const std::string group = kafka.unique_name(name);
  testing::TempDir dir;
  const std::string path = dir.file("model.smlm");
  testing::make_serve_model(7).save(path);
  testing::produce_rows(in, 0, kFirst, kPartitions);

  testing::LogCapture logs;
  FaultInjector faults(cluster_);
  faults.prepare(fault, in, group);
  // Injected request errors are used up by the next requests of their kind:
  // inject those before the server starts so that its first outputs and
  // commits meet them. The other faults hit once serving is under way.
  const bool at_start = fault == Fault::kProduceErrors || fault == Fault::kOffsetCommitErrors ||
                        fault == Fault::kTxnOffsetCommitErrors;
  if (at_start) faults.inject(fault, in, kPartitions, group);
  ServerOptions o;
  o.input_topics = {in};
  o.output_topic = out;
  o.group = group;
  o.max_batch = 32;
  o.max_wait_us = 2000;
  o.metrics_interval_ms = 0;
  o.exactly_once = exactly_once;
  o.instance_id = "fault-test";
  o.kafka = kafka.config();
  auto st = std::make_unique<ServerThread>(o, path);
  testing::OutputReader reader(out, kPartitions);
  ASSERT_GE(reader.read_at_least(100, 60s).size(), 100u) << logs.text();
  const size_t warnings_before = logs.count();
  if (!at_start) faults.inject(fault, in, kPartitions, group);
  // More inputs arrive while the fault lasts.
  testing::produce_rows(in, kFirst, kSecond, kPartitions);
  reader.read_until([&](const auto& outs) { return distinct_served(outs) >= static_cast<size_t>(kSecond); }, 60s);
  EXPECT_EQ(distinct_served(reader.outputs()), static_cast<size_t>(kSecond)) << logs.text();
  faults.undo();
  // The server kept running: later inputs are served too.
  testing::produce_rows(in, kSecond, kTotal, kPartitions);
  const auto& outputs = reader.read_until(
      [&](const auto& outs) { return distinct_served(outs) >= static_cast<size_t>(kTotal); }, 60s);
  EXPECT_EQ(check_outputs(outputs, in, kPartitions, kTotal), "");
  // While serving, the committed offsets reach every input (exactly-once:
  // with the outputs' transactions). After injected OffsetCommit errors,
  // librdkafka 2.0.2 was seen (about 1 run in 3) to lose a partition's later
  // asynchronous commits without reporting it; the server's re-commit of every
  // acknowledged offset once the commits stop changing stores them.
  EXPECT_TRUE(testing::wait_for(
      [&] { return testing::committed_offsets(group, in, kPartitions) == per_partition(kTotal, kPartitions); },
      30s))
      << ::testing::PrintToString(testing::committed_offsets(group, in, kPartitions));
  st->stop();
  EXPECT_EQ(st->error(), "") << "the server stopped on the fault";
  EXPECT_EQ(testing::committed_offsets(group, in, kPartitions), per_partition(kTotal, kPartitions));
  if (fault == Fault::kBrokerDownUp || fault == Fault::kBrokerDownLong) {
    EXPECT_GT(logs.count(), warnings_before) << "the outage was not reported";
  }

  ::testing::Test::RecordProperty("outputs", static_cast<int>(outputs.size()));
}

std::vector<ServeFaultCase> serve_cases() {
  std::vector<ServeFaultCase> cases;
  for (bool eos : {false, true}) {
    for (Fault f : {Fault::kBrokerDownUp, Fault::kLeaderMoved, Fault::kFetchErrors, Fault::kProduceErrors,
                    Fault::kOffsetCommitErrors, Fault::kCoordinatorMoved}) {
      cases.push_back({f, eos});
    }
  }
  cases.push_back({Fault::kTxnOffsetCommitErrors, true});
  // An outage longer than librdkafka's 10 s call timeouts: a transactional
  // call caught in it times out with a retriable error, and serve calls it
  // again (it used to abort instead, which librdkafka refuses while a commit
  // is in progress, and the server stopped). Which call it catches depends on
  // timing; KafkaFaultTest checks the retriable timeout deterministically.
  cases.push_back({Fault::kBrokerDownLong, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Faults, ServeFaultTest, ::testing::ValuesIn(serve_cases()), [](const auto& info) {
  return std::string(testing::fault_name(info.param.fault)) + (info.param.exactly_once ? "ExactlyOnce" : "");
});

// A failed asynchronous commit of a partition's last batch is reported, and a
// graceful stop still stores its offsets. Regression: exactly-once on the
// embedded cluster (whose offsets travel in plain commits next to the
// transactions) skipped that final commit, leaving the group behind its
// committed outputs.
TEST(ServeFaultCommit, GracefulStopStoresOffsetsWhoseAsynchronousCommitFailed) {
  kafka::EmbeddedCluster* cluster = TestKafka::get().embedded();
  if (cluster == nullptr) GTEST_SKIP() << "fault hooks need the embedded cluster (STREAMML_TEST_BOOTSTRAP is set)";
  for (bool exactly_once : {false, true}) {
    SCOPED_TRACE(exactly_once ? "exactly-once" : "at-least-once");
    constexpr int kPartitions = 2, kFirst = 200, kTotal = 220;
    auto& kafka = TestKafka::get();
    const std::string in = kafka.create_topic("serve-lastcommit-in", kPartitions);
    const std::string out = kafka.create_topic("serve-lastcommit-out", kPartitions);
    const std::string group = kafka.unique_name("serve-lastcommit");
    testing::TempDir dir;
    const std::string path = dir.file("model.smlm");
    testing::make_serve_model(7).save(path);
    testing::produce_rows(in, 0, kFirst, kPartitions);
    ServerOptions o;
    o.input_topics = {in};
    o.output_topic = out;
    o.group = group;
    o.metrics_interval_ms = 0;
    o.exactly_once = exactly_once;
    o.instance_id = "lastcommit";
    o.kafka = kafka.config();
    testing::LogCapture logs;
    FaultInjector faults(cluster);
    ServerThread st(o, path);
    testing::OutputReader reader(out, kPartitions);
    ASSERT_TRUE(testing::wait_for(
        [&] { return testing::committed_offsets(group, in, kPartitions) == per_partition(kFirst, kPartitions); },
        60s))
        << logs.text();
    // Every commit of the next records fails, and no later record comes to
    // commit them again.
    cluster->push_request_errors(kafka::ApiKey::kOffsetCommit, std::vector<int>(12, testing::kErrRequestTimedOut));
    testing::produce_rows(in, kFirst, kTotal, kPartitions);
    reader.read_until([&](const auto& outs) { return distinct_served(outs) >= static_cast<size_t>(kTotal); }, 60s);
    ASSERT_EQ(check_outputs(reader.outputs(), in, kPartitions, kTotal), "");
    ASSERT_TRUE(testing::wait_for([&] { return logs.text().find("offset commit failed") != std::string::npos; }, 30s))
        << "the failed commit was not reported\n" << logs.text();
    faults.undo();
    st.stop();
    EXPECT_EQ(st.error(), "");
    EXPECT_EQ(testing::committed_offsets(group, in, kPartitions), per_partition(kTotal, kPartitions));
  }
}

// --- `streamml serve` SIGKILLed over several rounds --------------------------------

void sigkill_rounds(bool exactly_once) {
  constexpr int kPartitions = 2, kRounds = 3, kPerRound = 600;
  constexpr int kTotal = kRounds * kPerRound + 100;
  const uint64_t seed = exactly_once ? 7002 : 7001;
  std::mt19937_64 rng(seed);
  auto& kafka = TestKafka::get();
  const std::string name = exactly_once ? "serve-rounds-eos" : "serve-rounds";
  const std::string in = kafka.create_topic(name + "-in", kPartitions);
  const std::string out = kafka.create_topic(name + "-out", kPartitions);
  const std::string group = kafka.unique_name(name);
  testing::TempDir dir;
  const std::string model = dir.file("model.smlm");
  testing::make_serve_model(13).save(model);
  std::vector<std::string> args = {"serve", "-b", kafka.bootstrap(), "--model", model, "--input", in,
                                   "--output", out, "-G", group, "--max-batch", "50",
                                   "--metrics-interval-ms", "0",
                                   // A killed member holds its partitions until its session times out.
                                   "-X", "session.timeout.ms=4000", "-X", "heartbeat.interval.ms=500"};
  if (exactly_once) args.insert(args.end(), {"--exactly-once", "--instance-id", "rounds"});
  testing::OutputReader reader(out, kPartitions);
  std::string logs;
  int killed = 0;
  for (int round = 0; round < kRounds; ++round) {
    testing::ChildProcess serve(args, dir.file("serve" + std::to_string(round) + ".log"));
    ASSERT_TRUE(serve.started());
    const size_t before = distinct_served(reader.outputs());
    testing::produce_rows(in, round * kPerRound, (round + 1) * kPerRound, kPartitions);
    // Kill at a seeded random point: after 1..kPerRound-1 new outputs.
    const size_t target = before + 1 + rng() % (kPerRound - 1);
    reader.read_until([&](const auto& outs) { return distinct_served(outs) >= target; }, 60s);
    ASSERT_GE(distinct_served(reader.outputs()), target) << "round " << round << " served too little\n" << serve.log();
    if (serve.kill_now()) ++killed;
    logs += serve.log();
    // Nothing is committed ahead of the outputs: every input below the
    // committed offsets has an output.
    const std::vector<int64_t> committed = testing::committed_offsets(group, in, kPartitions);
    auto covered = [&](const std::vector<Output>& outs) {
      std::set<std::pair<int32_t, int64_t>> s;
      for (const Output& o : outs) s.insert({o.source_partition(), o.source_offset()});
      for (int p = 0; p < kPartitions; ++p) {
        for (int64_t off = 0; off < committed[static_cast<size_t>(p)]; ++off) {
          if (!s.count({p, off})) return false;
        }
      }
      return true;
    };
    EXPECT_TRUE(covered(reader.read_until(covered, 30s)))
        << "round " << round << ": offsets committed past inputs without an output: "
        << ::testing::PrintToString(committed);
  }
  EXPECT_EQ(killed, kRounds) << "a serve process exited by itself\n" << logs;
  // The last restart serves the rest, and inputs that arrive after it
  // started, then stops gracefully.
  testing::ChildProcess last(args, dir.file("serve-last.log"));
  testing::produce_rows(in, kRounds * kPerRound, kTotal, kPartitions);
  const auto& outputs = reader.read_until(
      [&](const auto& outs) { return distinct_served(outs) >= static_cast<size_t>(kTotal); }, 90s);
  EXPECT_EQ(check_outputs(outputs, in, kPartitions, kTotal), "") << "seed " << seed << "\n" << last.log();
  EXPECT_TRUE(testing::wait_for(
      [&] { return testing::committed_offsets(group, in, kPartitions) == per_partition(kTotal, kPartitions); }, 30s))
      << ::testing::PrintToString(testing::committed_offsets(group, in, kPartitions));
  EXPECT_EQ(last.signal_and_wait(SIGTERM, 30s), 0) << last.log();
  // Committed offsets match the outputs: every input below them has an
  // output (checked above) and nothing above them was committed.
  EXPECT_EQ(testing::committed_offsets(group, in, kPartitions), per_partition(kTotal, kPartitions));
  ::testing::Test::RecordProperty("outputs", static_cast<int>(outputs.size()));
}

TEST(ServeFaultCli, SigkillRoundsAtLeastOnceServeEveryInput) { sigkill_rounds(false); }

TEST(ServeFaultCli, SigkillRoundsExactlyOnceCommitOffsetsWithOutputs) { sigkill_rounds(true); }

}  // namespace
}  // namespace streamml::serve
