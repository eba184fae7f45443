// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Online training under faults (issue #7), embedded cluster only:
//  * train::OnlineTrainer on a consumer-group KafkaDataset with a broker
//    down and back, the group coordinator moved, or transient OffsetCommit /
//    Fetch errors injected mid-stream: every record is trained on, the
//    checkpoint and the group's committed offsets agree, and training goes on.
//  * `streamml train --online -G` SIGKILLed at seeded random points over
//    several rounds, restarted each time with --checkpoint-every: each
//    restart resumes from the checkpoint (never behind the previous one), and
//    overall every record is trained on, exactly once after the last
//    checkpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "streamml/common/error.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/producer.h"
#include "streamml/model/model.h"
#include "streamml/train/online_trainer.h"
#include "streamml/train/trainer.h"
#include "support/fault_support.h"
#include "support/test_kafka.h"

namespace streamml::train {
namespace {

using namespace std::chrono_literals;
using testing::Fault;
using testing::FaultInjector;
using testing::TestKafka;

constexpr const char* kDecode = "csv:names=a+b+y,label=y";

// Binary rows "a,b,y" (y = a + b > 0) spread over the partitions.
void produce_rows(const std::string& topic, int partitions, int from, int to) {
  kafka::Producer producer(TestKafka::get().config());
  std::mt19937_64 rng(static_cast<uint64_t>(from));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int i = from; i < to; ++i) {
    const float a = u(rng), b = u(rng);
    const std::string value = std::to_string(a) + "," + std::to_string(b) + "," + (a + b > 0 ? "1" : "0");
    kafka::ProduceRecord r;
    r.topic = topic;
    r.partition = i % partitions;
    r.value = value;
    ASSERT_TRUE(producer.produce(r).ok());
  }
  ASSERT_TRUE(producer.flush(60s).ok());
}

model::Model make_model(const std::string& decoder_spec) {
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features = {2, {"a", "b"}, decoder_spec};
  config.spec = model::parse_model_spec("mlp:8");
  return model::Model::create(config);
}

int64_t offsets_sum(const model::Model& model) {
  int64_t sum = 0;
  for (const auto& o : model.offsets()) sum += o.offset;
  return sum;
}

// Sees every trained batch (through the predictions hook, which gets the
// batch), injects the fault after `inject_at` batches, and stops training
// once every one of `total` records was trained on and the dataset stands at
// the end of every partition (`position()`: after a rebalance it may be
// reading records again).
class Recorder : public Callback {
 public:
  Recorder(int64_t total, int64_t inject_at, std::function<void()> inject, std::function<int64_t()> position)
      : total_(total), inject_at_(inject_at), inject_(std::move(inject)), position_(std::move(position)) {}
  void on_predict_batch_end(const data::Batch& batch, const model::Predictions&) override {
    for (const auto& m : batch.meta) ++trained_[{m.partition, m.offset}];
  }
  void on_batch_end(TrainContext& context, int64_t step, const Logs&) override {
    if (step == inject_at_ && inject_) inject_();
    if (static_cast<int64_t>(trained_.size()) >= total_ && position_() >= total_) context.stop_training = true;
  }
  const std::map<std::pair<int32_t, int64_t>, int>& trained() const { return trained_; }

 private:
  int64_t total_, inject_at_;
  std::function<void()> inject_;
  std::function<int64_t()> position_;
  std::map<std::pair<int32_t, int64_t>, int> trained_;
};

class TrainFaultTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override {
    cluster_ = TestKafka::get().embedded();
    if (cluster_ == nullptr) GTEST_SKIP() << "fault hooks need the embedded cluster (STREAMML_TEST_BOOTSTRAP is set)";
  }
  kafka::EmbeddedCluster* cluster_ = nullptr;
};

TEST_P(TrainFaultTest, EveryRecordIsTrainedOnAndCheckpointsMatchCommits) {
  constexpr int kPartitions = 2, kTotal = 3000;
  const Fault fault = GetParam();
  auto& kafka = TestKafka::get();
  const std::string name = std::string("train-fault-") + testing::fault_name(fault);
  const std::string topic = kafka.create_topic(name, kPartitions);
  const std::string group = kafka.unique_name(name);
  testing::TempDir dir;
  const std::string checkpoint = dir.file("online.smlm");
  produce_rows(topic, kPartitions, 0, kTotal);

  testing::LogCapture logs;
  FaultInjector faults(cluster_);
  faults.prepare(fault, topic, group);
  data::KafkaDatasetOptions o;
  o.config = kafka.config();
  o.config.set("auto.offset.reset", "earliest");
  o.group = group;
  o.topics = {topic};
  o.decoder = kDecode;
  o.batch_size = 32;
  o.batch_wait = std::chrono::milliseconds(20);
  o.stream_timeout = std::chrono::milliseconds(30000);  // a safety net: the recorder stops training when all records are in
  int64_t at_kill = 0;
  size_t warnings_before = 0;
  {
    data::KafkaDataset dataset(o);
    model::Model model = make_model(dataset.decoder_spec());
    TrainOptions options;
    options.learning_rate = 0.01;
    Trainer trainer(model, options);
    OnlineTrainer online(model, trainer, OnlineOptions{checkpoint, /*checkpoint_every=*/5, 0, /*predict=*/true});
    Recorder recorder(
        kTotal, /*inject_at=*/10,
        [&] {
          warnings_before = logs.count();
          faults.inject(fault, topic, kPartitions, group);
        },
        [&] {
          int64_t sum = 0;
          for (const auto& p : dataset.positions()) sum += p.offset;
          return sum;
        });
    OnlineResult result = online.run(dataset, {&recorder});
    ASSERT_EQ(recorder.trained().size(), static_cast<size_t>(kTotal))
        << "records never trained on\n" << logs.text();
    for (int i = 0; i < kTotal; ++i) {
      ASSERT_TRUE(recorder.trained().count({i % kPartitions, i / kPartitions})) << "record " << i;
    }
    EXPECT_GE(result.records, kTotal);
    // The final checkpoint covers everything, and the group agrees with it.
    model::Model saved = model::Model::load(checkpoint);
    EXPECT_EQ(offsets_sum(saved), kTotal);
    EXPECT_EQ(saved.metadata().at(kOnlineRecordsKey), std::to_string(result.records));
    at_kill = offsets_sum(saved);
  }
  if (fault == Fault::kBrokerDownUp) {
    EXPECT_GT(logs.count(), warnings_before) << "the outage was not reported";
  }
  if (fault == Fault::kOffsetCommitErrors) {
    // The checkpoint's commit met the errors, retried and said so.
    EXPECT_NE(logs.text().find("retrying"), std::string::npos) << logs.text();
  }
  // A restart finds nothing left to train.
  faults.undo();
  o.stream_timeout = std::chrono::milliseconds(2000);
  data::KafkaDataset again(o);
  model::Model model = model::Model::load(checkpoint);
  TrainOptions options;
  Trainer trainer(model, options);
  OnlineTrainer online(model, trainer, OnlineOptions{checkpoint, 5});
  OnlineTrainer::resume(model, again);
  EXPECT_EQ(online.run(again).records, 0);
  EXPECT_EQ(offsets_sum(model::Model::load(checkpoint)), at_kill);
}

INSTANTIATE_TEST_SUITE_P(Faults, TrainFaultTest,
                         ::testing::Values(Fault::kBrokerDownUp, Fault::kCoordinatorMoved, Fault::kOffsetCommitErrors,
                                           Fault::kFetchErrors),
                         [](const auto& info) { return std::string(testing::fault_name(info.param)); });

// --- `streamml train --online` SIGKILLed over several rounds -----------------------

int64_t trained_records(const model::Model& model) {
  auto it = model.metadata().find(kOnlineRecordsKey);
  return it == model.metadata().end() ? 0 : std::stoll(it->second);
}

// The checkpoint, or nullopt while it does not exist or is being replaced.
std::optional<model::Model> load_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    return model::Model::load(path);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

TEST(TrainFaultCli, OnlineTrainingSigkilledInRoundsResumesFromEachCheckpoint) {
  constexpr int kPartitions = 2, kRounds = 3, kPerRound = 2000;
  constexpr int kTotal = kRounds * kPerRound;
  const uint64_t seed = 8101;
  std::mt19937_64 rng(seed);
  auto& kafka = TestKafka::get();
  const std::string topic = kafka.create_topic("online-rounds", kPartitions);
  const std::string group = kafka.unique_name("online-rounds");
  testing::TempDir dir;
  const std::string model = dir.file("online.smlm");
  const std::vector<std::string> args = {"train", "-b", kafka.bootstrap(), "--online", "-G", group, "--topic", topic,
                                         "--decode", kDecode, "--task", "binary", "--model", "mlp:8",
                                         "--batch-size", "16", "--batch-wait", "20", "--checkpoint-every", "5",
                                         "-X", "session.timeout.ms=4000", "-X", "heartbeat.interval.ms=500",
                                         "--save", model};
  int64_t previous = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Half of the round's records are there at the start, the other half
    // arrives after the kill: the kill is always mid-stream.
    const int first = round * kPerRound, half = first + kPerRound / 2;
    produce_rows(topic, kPartitions, first, half);
    testing::ChildProcess train(args, dir.file("train" + std::to_string(round) + ".log"));
    ASSERT_TRUE(train.started());
    // Kill at a seeded random time after the first checkpoint of this run.
    int64_t checkpointed = previous;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (checkpointed <= previous && std::chrono::steady_clock::now() < deadline && train.running()) {
      std::this_thread::sleep_for(20ms);
      if (auto m = load_checkpoint(model)) checkpointed = offsets_sum(*m);
    }
    ASSERT_GT(checkpointed, previous) << "round " << round << ": no checkpoint progress\n" << train.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    ASSERT_TRUE(train.kill_now()) << "round " << round << ": the process exited by itself\n" << train.log();
    model::Model at_kill = model::Model::load(model);
    // The checkpoint is consistent (records counted = offsets) and this run
    // resumed from the previous one (never behind it).
    EXPECT_EQ(trained_records(at_kill), offsets_sum(at_kill)) << "round " << round;
    EXPECT_GT(offsets_sum(at_kill), previous) << "round " << round;
    EXPECT_LE(offsets_sum(at_kill), half) << "round " << round;
    if (round > 0) {
      EXPECT_NE(train.log().find("resuming online training"), std::string::npos) << train.log();
    }
    previous = offsets_sum(at_kill);
    produce_rows(topic, kPartitions, half, first + kPerRound);
  }
  // The last run trains the rest and stops after 3 s without records.
  testing::CommandResult last = testing::run_command_capture(
      [&] {
        std::string command = testing::cli_path();
        for (const auto& a : args) command += " " + testing::shell_quote(a);
        return command + " --stream-timeout 3000 --json";
      }());
  ASSERT_EQ(last.exit_code, 0) << last.err;
  // Exactly once after the last checkpoint: the last run trained precisely
  // the records past it; overall every record was trained on.
  const size_t at = last.out.find("\"records\":");
  ASSERT_NE(at, std::string::npos) << last.out;
  EXPECT_EQ(std::stod(last.out.substr(at + 10)), static_cast<double>(kTotal - previous)) << last.out;
  model::Model final_model = model::Model::load(model);
  EXPECT_EQ(trained_records(final_model), kTotal);
  EXPECT_EQ(offsets_sum(final_model), kTotal);
}

}  // namespace
}  // namespace streamml::train
