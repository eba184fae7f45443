// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml train with many processes: two `streamml train` child processes
// of this test train one model from a Kafka topic (bounded ranges, and
// online in one consumer group), against the embedded cluster or
// STREAMML_TEST_BOOTSTRAP; a killed rank stops the other with an error.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "streamml/kafka/producer.h"
#include "streamml/model/model.h"
#include "streamml/train/online_trainer.h"
#include "support/free_port.h"
#include "support/cli_json.h"
#include "support/temp_dir.h"
#include "support/test_kafka.h"

extern char** environ;

namespace streamml::train {
namespace {

using testing::json_value;

using testing::TempDir;
using testing::TestKafka;
using namespace std::chrono_literals;

constexpr const char* kDecode = "csv:names=a+b+y,label=y";

// Binary records "a,b,y" with y = a + b > 0, spread over the partitions.
void produce_binary(const std::string& topic, int first, int n) {
  kafka::Producer producer(TestKafka::get().config());
  std::mt19937_64 rng(static_cast<uint64_t>(first) + 17);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int i = 0; i < n; ++i) {
    const float a = u(rng), b = u(rng);
    const std::string value = fmt::format("{},{},{}", a, b, a + b > 0 ? 1 : 0);
    const std::string key = "k" + std::to_string(first + i);
    kafka::ProduceRecord p;
    p.topic = topic;
    p.key = std::string_view(key);
    p.value = value;
    ASSERT_TRUE(producer.produce(p).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A `streamml` child process: stdout and stderr into files of `dir`.
struct Rank {
  pid_t pid = -1;
  std::string out, err;  // file paths

  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string stdout_text() const { return read_file(out); }
  std::string stderr_text() const { return read_file(err); }
};

Rank spawn_rank(const std::string& env, const std::string& args, const std::string& dir, const std::string& name) {
  Rank r;
  r.out = dir + "/" + name + ".out";
  r.err = dir + "/" + name + ".err";
  const std::string command = "exec env " + env + " " + testing::cli_path() + " " + args + " >" + r.out + " 2>" + r.err;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  if (posix_spawn(&r.pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) r.pid = -1;
  return r;
}

std::string broker() { return "-b " + TestKafka::get().bootstrap(); }

int64_t offsets_sum(const std::string& path) {
  const model::Model model = model::Model::load(path);
  int64_t sum = 0;
  for (const auto& o : model.offsets()) sum += o.offset;
  return sum;
}

// N of "rank R reads N records of --topic" in a rank's log; -1 when absent.
int64_t records_read(const std::string& log, int rank) {
  const std::string prefix = fmt::format("rank {} reads ", rank);
  const size_t at = log.find(prefix);
  if (at == std::string::npos || log.find(" records of --topic", at) == std::string::npos) return -1;
  return std::stoll(log.substr(at + prefix.size()));
}

TEST(TrainDistributedCli, TwoProcessesTrainOneModelOnBoundedRangesWithEqualWeights) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("dist-train", 2);
  const std::string val = TestKafka::get().create_topic("dist-val", 2);
  produce_binary(topic, 0, 3000);
  produce_binary(val, 100000, 600);
  const int port = testing::free_port();
  const std::string model = dir / "dist.pt";
  const std::string common = "--log-level info train " + broker() + " --topic " + topic + " --validation " + val + " --decode " +
                             kDecode + " --task binary --model mlp:8 --epochs 4 --batch-size 32 --lr 0.01 -q --json";
  // Rank 0 by flags, rank 1 by torchrun's variables.
  Rank r0 = spawn_rank("", common + fmt::format(" --world-size 2 --rank 0 --rendezvous 127.0.0.1:{} --save ", port) +
                               model, dir.path(), "rank0");
  Rank r1 = spawn_rank(fmt::format("WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT={}", port),
                       common + " --save " + (dir / "not-written.pt"), dir.path(), "rank1");
  ASSERT_EQ(r0.wait(), 0) << r0.stderr_text();
  ASSERT_EQ(r1.wait(), 0) << r1.stderr_text();
  const std::string out0 = r0.stdout_text(), out1 = r1.stdout_text();
  EXPECT_EQ(json_value(out0, "rank"), 0) << out0;
  EXPECT_EQ(json_value(out1, "rank"), 1) << out1;
  // Equal weights on both ranks (their L2 norm, to 1e-6 relative).
  const double w0 = json_value(out0, "weights_l2"), w1 = json_value(out1, "weights_l2");
  EXPECT_NEAR(w0, w1, 1e-6 * w0) << out0 << out1;
  // The metrics are reduced over both shares: equal, and the model learned.
  EXPECT_EQ(json_value(out0, "val_accuracy"), json_value(out1, "val_accuracy"));
  EXPECT_EQ(json_value(out0, "loss"), json_value(out1, "loss"));
  EXPECT_GT(json_value(out0, "val_accuracy"), 0.9) << out0;
  // Each rank read half of every partition (one record more or less).
  const int64_t n0 = records_read(r0.stderr_text(), 0), n1 = records_read(r1.stderr_text(), 1);
  EXPECT_EQ(n0 + n1, 3000) << r0.stderr_text() << r1.stderr_text();
  EXPECT_LE(std::abs(n0 - n1), 2);
  // Rank 0 alone saves; the saved model has the same weights.
  EXPECT_TRUE(std::filesystem::exists(model));
  EXPECT_FALSE(std::filesystem::exists(dir / "not-written.pt"));
}

TEST(TrainDistributedCli, AKilledRankStopsTheOtherWithAnErrorNamingIt) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("dist-kill", 2);
  produce_binary(topic, 0, 2000);
  const int port = testing::free_port();
  const std::string common = "train " + broker() + " --topic " + topic + " --decode " + kDecode +
                             " --task binary --model mlp:8 --epochs 100000 --batch-size 16 -q --world-size 2 " +
                             fmt::format("--rendezvous 127.0.0.1:{} --dist-timeout 30 ", port);
  Rank r0 = spawn_rank("", common + "--rank 0", dir.path(), "rank0");
  Rank r1 = spawn_rank("", common + "--rank 1", dir.path(), "rank1");
  // Once both train (rank 1 logged its model), kill rank 1.
  for (int i = 0; i < 600 && r1.stderr_text().find("training binary model") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(::kill(r1.pid, SIGKILL), 0);
  r1.wait();
  EXPECT_EQ(r0.wait(), 1);
  const std::string err = r0.stderr_text();
  EXPECT_NE(err.find("rank 0 of 2"), std::string::npos) << err;
  EXPECT_NE(err.find("rank 1 is gone"), std::string::npos) << err;
}

TEST(TrainDistributedCli, BadDistributedFlagsAreNamed) {
  TempDir dir;
  std::ofstream(dir / "x.csv") << "0.1,0.2,1\n";
  const std::string base = "train --file " + (dir / "x.csv") + " --decode " + kDecode + " --task binary -q ";
  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {"--world-size 2", "--world-size needs --rank R"},
      {"--world-size 2 --rank 2", "--rank 2 is invalid for --world-size 2"},
      {"--world-size 2 --rank 0 --rendezvous nohostport", "--rendezvous 'nohostport' is not HOST:PORT"},
  };
  for (const Case& c : cases) {
    const auto result = testing::run_command_capture(testing::cli_path() + " " + base + c.args);
    EXPECT_NE(result.exit_code, 0) << c.args;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << c.args << ": " << result.err;
  }
}

// Online: both ranks join one consumer group; rank 0's checkpoint holds
// every partition's offset; a restart of both resumes from it.
TEST(TrainDistributedCli, TwoProcessesLearnOnlineInOneGroupAndResume) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("dist-online", 2);
  const std::string group = TestKafka::get().unique_name("dist-group");
  const std::string model = dir / "online.pt";
  produce_binary(topic, 0, 2000);
  auto run_both = [&](const std::string& name, std::string* out0, std::string* out1) {
    const int port = testing::free_port();
    const std::string common = "train " + broker() + " --online -G " + group + " --topic " + topic + " --decode " +
                               kDecode + " --task binary --model mlp:8 --batch-size 16 --batch-wait 20 " +
                               "--checkpoint-every 5 --stream-timeout 4000 -X session.timeout.ms=6000 -q --json " +
                               fmt::format("--world-size 2 --rendezvous 127.0.0.1:{} --save {} ", port, model);
    Rank r0 = spawn_rank("", common + "--rank 0", dir.path(), name + "-rank0");
    Rank r1 = spawn_rank("", common + "--rank 1", dir.path(), name + "-rank1");
    ASSERT_EQ(r0.wait(), 0) << r0.stderr_text();
    ASSERT_EQ(r1.wait(), 0) << r1.stderr_text();
    *out0 = r0.stdout_text();
    *out1 = r1.stdout_text();
  };
  std::string a0, a1;
  run_both("run1", &a0, &a1);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_NEAR(json_value(a0, "weights_l2"), json_value(a1, "weights_l2"), 1e-6 * json_value(a0, "weights_l2"))
      << a0 << a1;
  // Every record trained over both ranks, and the checkpoint holds both
  // partitions' offsets (their sum is the record count). Usually each record
  // once; when rank 1 joins the group after rank 0 began (seen under ASan),
  // the partition that moves to it is read again from its last committed
  // checkpoint: at-least-once, as documented ("Many processes").
  const double first_records = json_value(a0, "records") + json_value(a1, "records");
  EXPECT_GE(first_records, 2000) << a0 << a1;
  EXPECT_EQ(offsets_sum(model), 2000);
  EXPECT_EQ(model::Model::load(model).offsets().size(), 2u);

  // A restart of both ranks trains exactly the new records.
  produce_binary(topic, 2000, 600);
  std::string b0, b1;
  run_both("run2", &b0, &b1);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(json_value(b0, "records") + json_value(b1, "records"), 600) << b0 << b1;
  EXPECT_NEAR(json_value(b0, "weights_l2"), json_value(b1, "weights_l2"), 1e-6 * json_value(b0, "weights_l2"));
  EXPECT_EQ(offsets_sum(model), 2600);
  const model::Model saved = model::Model::load(model);
  // The model counts every record it trained on, re-reads included.
  EXPECT_EQ(saved.metadata().at(kOnlineRecordsKey),
            std::to_string(static_cast<int64_t>(first_records + json_value(b0, "records") + json_value(b1, "records"))));
}

}  // namespace
}  // namespace streamml::train
