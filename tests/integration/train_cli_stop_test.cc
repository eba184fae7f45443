// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Long-running commands stop on SIGINT/SIGTERM while they are idle (caught up
// with their input, waiting for records): `train --online`, `consume -G`,
// `serve`, the demo's serve and leaderboard steps, and `broker`, run as child
// processes against the embedded cluster or
// STREAMML_TEST_BOOTSTRAP. The deadlines are "does not hang" guards, not
// timing assertions.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/model/model.h"
#include "support/signal_state.h"
#include "support/temp_dir.h"
#include "support/test_kafka.h"

extern char** environ;

namespace streamml::train {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestKafka;

// A signal must end the command well within this ("does not hang").
constexpr std::chrono::seconds kStopGuard{20};

// Polls `condition` every 50 ms until it holds or `timeout` passed.
bool wait_for(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// A `streamml` child process with stdout and stderr in files; SIGKILLed at
// destruction if still running.
class CliProcess {
 public:
  // `wrapper`: a command that runs the CLI (e.g. stdbuf -oL).
  CliProcess(std::vector<std::string> args, const std::string& out_path, const std::string& err_path,
             const std::vector<std::string>& wrapper = {})
      : out_path_(out_path), err_path_(err_path) {
    args.insert(args.begin(), testing::cli_path());
    args.insert(args.begin(), wrapper.begin(), wrapper.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~CliProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool running() {
    int status = 0;
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    pid_ = -1;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  // Sends `sig`; returns the exit code (128 + N when signal N ended it), or
  // -1 when it was still running after kStopGuard (then it is killed).
  int stop_with(int sig) {
    if (pid_ <= 0) return code_;
    ::kill(pid_, sig);
    if (!wait_for([&] { return !running(); }, kStopGuard)) return -1;
    return code_;
  }
  std::string out() const { return read(out_path_); }
  std::string err() const { return read(err_path_); }

 private:
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  pid_t pid_ = -1;
  int code_ = -1;
  std::string out_path_, err_path_;
};

std::vector<std::string> csv_rows(int n) {
  std::vector<std::string> rows;
  for (int i = 0; i < n; ++i) {
    const double a = ((i * 37) % 200 - 100) / 100.0, b = ((i * 91) % 200 - 100) / 100.0;
    rows.push_back(fmt::format("{},{},{}", a, b, a + b > 0 ? 1 : 0));
  }
  return rows;
}

int64_t trained_offsets(const std::string& model_path) {
  try {
    int64_t sum = 0;
    const model::Model model = model::Model::load(model_path);
    for (const auto& o : model.offsets()) sum += o.offset;
    return sum;
  } catch (const Error&) {
    return -1;  // being written
  }
}

// ASAN_OPTIONS=<the current ones>:verify_asan_link_order=0, for a child run
// with a preloaded library (stdbuf); harmless in builds without ASan.
std::string asan_options_allowing_preload() {
  const char* current = std::getenv("ASAN_OPTIONS");
  return std::string("ASAN_OPTIONS=") + (current != nullptr && *current != '\0' ? std::string(current) + ":" : "") +
         "verify_asan_link_order=0";
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

TEST(CliStop, OnlineTrainingThatCaughtUpStopsOnASignalSavingAndCommitting) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(signal_name(sig));
    TempDir dir;
    const std::string topic = TestKafka::get().create_topic("stop-online", 1);
    const std::string group = TestKafka::get().unique_name("stop-online-group");
    const std::string model = dir / "online.smlm";
    testing::produce_to(topic, 0, csv_rows(40));
    CliProcess p({"train", "-b", TestKafka::get().bootstrap(), "--online", "-G", group, "--topic", topic, "--decode",
                  "csv:names=a+b+y,label=y", "--task", "binary", "--model", "mlp:4", "--batch-size", "8",
                  "--batch-wait", "20", "--checkpoint-every", "1", "--save", model, "--json"},
                 dir / "out", dir / "err");
    ASSERT_TRUE(p.started());
    // Idle: every record is in a checkpoint, and it waits for more.
    ASSERT_TRUE(wait_for([&] { return trained_offsets(model) == 40 || !p.running(); }, 60s)) << p.err();
    ASSERT_TRUE(p.running()) << p.err();
    std::this_thread::sleep_for(500ms);
    const int code = p.stop_with(sig);
    EXPECT_EQ(code, 0) << "-1: still running " << kStopGuard.count() << " s after the signal\n" << p.err();
    EXPECT_NE(p.out().find("\"records\":40"), std::string::npos) << p.out();
    EXPECT_EQ(trained_offsets(model), 40);
    // The progress line on stderr.
    EXPECT_NE(p.err().find("train --online: records="), std::string::npos) << p.err();
    EXPECT_NE(p.err().find("lag="), std::string::npos) << p.err();
  }
}

TEST(CliStop, EpochTrainingWaitingForRecordsStopsOnTheFirstSignal) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("stop-wait", 1);
  testing::produce_to(topic, 0, csv_rows(40));
  // The range ends past the newest record: with --wait, train waits for the
  // rest, and says so every 5 s.
  CliProcess p({"train", "-b", TestKafka::get().bootstrap(), "--topic", topic + ":0:0:99", "--wait", "--decode",
                "csv:names=a+b+y,label=y", "--task", "binary", "--model", "mlp:4", "--batch-size", "8", "-q",
                "--save", dir / "model.smlm"},
               dir / "out", dir / "err");
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(wait_for([&] { return p.err().find("waiting for records 40..99") != std::string::npos || !p.running(); },
                       60s))
      << p.err();
  ASSERT_TRUE(p.running()) << p.err();
  const int code = p.stop_with(SIGTERM);
  EXPECT_NE(code, -1) << "still running " << kStopGuard.count() << " s after the first SIGTERM\n" << p.err();
  // Nothing was trained yet (the feature statistics pass was waiting).
  EXPECT_EQ(code, 1) << p.err();
  EXPECT_NE(p.err().find("stopped by a signal before the first epoch was trained"), std::string::npos) << p.err();
  EXPECT_FALSE(std::filesystem::exists(dir / "model.smlm"));
}

TEST(CliStop, GroupConsumerThatCaughtUpStopsOnASignal) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(signal_name(sig));
    TempDir dir;
    const std::string topic = TestKafka::get().create_topic("stop-consume", 1);
    testing::produce_to(topic, 0, {"a", "b", "c"});
    // stdout goes to a file, fully buffered: line-buffer it (stdbuf) to see
    // when everything was printed. stdbuf preloads a library ahead of the
    // ASan runtime, which ASan refuses unless told not to check the order.
    CliProcess p({"consume", "-b", TestKafka::get().bootstrap(), "-G", TestKafka::get().unique_name("stop-consume-g"),
                  topic},
                 dir / "out", dir / "err",
                 {"/usr/bin/env", asan_options_allowing_preload(), "/usr/bin/stdbuf", "-oL"});
    ASSERT_TRUE(p.started());
    ASSERT_TRUE(wait_for([&] { return p.out() == "a\nb\nc\n" || !p.running(); }, 60s)) << p.err();
    ASSERT_TRUE(p.running()) << p.err();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(p.stop_with(sig), 0) << p.err();
  }
}

TEST(CliStop, ServeThatCaughtUpStopsOnASignal) {
  TempDir dir;
  const std::string model = dir / "model.smlm";
  const std::string data = dir / "train.csv";
  {
    std::ofstream out(data);
    for (const std::string& row : csv_rows(100)) out << row << "\n";
  }
  ASSERT_EQ(testing::run_command(testing::cli_path() + " train --file " + data +
                                 " --decode csv:names=a+b+y,label=y --task binary --model mlp:4 --epochs 1 -q "
                                 "--save " + model + " >/dev/null 2>&1"),
            0);
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(signal_name(sig));
    const std::string in = TestKafka::get().create_topic("stop-serve-in", 1);
    const std::string out = TestKafka::get().create_topic("stop-serve-out", 1);
    testing::produce_to(in, 0, csv_rows(3));
    CliProcess p({"serve", "-b", TestKafka::get().bootstrap(), "--model", model, "--input", in, "--output", out, "-G",
                  TestKafka::get().unique_name("stop-serve-g")},
                 dir / "out", dir / "err");
    ASSERT_TRUE(p.started());
    ASSERT_TRUE(wait_for([&] { return testing::watermarks(out, 0).high >= 3 || !p.running(); }, 60s)) << p.err();
    ASSERT_TRUE(p.running()) << p.err();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(p.stop_with(sig), 0) << p.err();
  }
}

TEST(CliStop, DemoServeAndLeaderboardStepsStopOnASignalWhileWaitingForInput) {
  TempDir dir;
  // Topics are created from the CLI: an embedded cluster must be a `streamml
  // broker` process (it publishes the control socket that creation needs).
  std::string bootstrap = TestKafka::get().external() ? TestKafka::get().bootstrap() : "";
  std::unique_ptr<CliProcess> broker;
  if (bootstrap.empty()) {
    broker = std::make_unique<CliProcess>(std::vector<std::string>{"broker", "--bootstrap-file", dir / "bs"},
                                          dir / "broker.out", dir / "broker.err");
    ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(dir / "bs") || !broker->running(); }, 60s));
    std::ifstream(dir / "bs") >> bootstrap;
    ASSERT_FALSE(bootstrap.empty()) << broker->err();
  }
  const std::vector<std::string> common = {"-b", bootstrap, "--topic-prefix", TestKafka::get().unique_name("stop-race"),
                                           "--seed", "3", "--history-races", "20", "--live-races", "2",
                                           "--out", dir / "models", "--idle-timeout", "600000"};
  auto step = [&](const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"demo", "--step", name};
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  std::string command = testing::cli_path();
  for (const std::string& a : step("history")) command += " " + testing::shell_quote(a);
  ASSERT_EQ(testing::run_command(command + " >/dev/null 2>&1"), 0);
  command = testing::cli_path();
  for (const std::string& a : step("train", {"--epochs", "1"})) command += " " + testing::shell_quote(a);
  ASSERT_EQ(testing::run_command(command + " >/dev/null 2>&1"), 0);

  // No live races: both wait for input until the signal.
  CliProcess serve(step("serve"), dir / "serve.out", dir / "serve.err");
  CliProcess board(step("leaderboard", {"--plain"}), dir / "board.out", dir / "board.err");
  ASSERT_TRUE(serve.started() && board.started());
  std::this_thread::sleep_for(6s);  // past the group join: idle
  ASSERT_TRUE(serve.running()) << serve.err();
  ASSERT_TRUE(board.running()) << board.err();
  EXPECT_EQ(serve.stop_with(SIGINT), 0) << serve.err();
  // The leaderboard did not get its rankings: interrupted, it exits 1.
  EXPECT_EQ(board.stop_with(SIGTERM), 1) << board.err();
  if (broker) {
    EXPECT_EQ(broker->stop_with(SIGTERM), 0) << broker->err();
  }
}

// The commands that stop gracefully catch SIGINT/SIGTERM from their very start,
// before LibTorch's static initializers (~0.3 s, seconds on a busy machine):
// a signal then is a graceful stop, not a kill. The cluster address is one
// where nobody answers, so a command that missed the signal would wait out
// --timeout and fail. The demo's history and train steps do not stop early:
// for them a signal keeps its default action, even one that came while the
// process started.
TEST(CliStop, CommandsCatchAStopSignalWhileTheyStart) {
  TempDir dir;
  const std::vector<std::string> dead = {"-b", "127.0.0.1:1", "--timeout", "20000"};
  auto with = [&](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    bool keeps_default = false;  // catches the signal only until main() gives it back
  };
  const std::string out = dir / "demo";
  const std::vector<Case> cases = {
      {{"broker", "--bootstrap-file", dir / "bs"}, 0},
      {with({"consume", "-G", "early-g", "early-topic"}, dead), 0},
      {with({"demo", "--step", "serve", "--out", out}, dead), 0},
      {with({"--log-level", "warn", "demo", "--step", "serve", "--out", out}, dead), 0},
      // Interrupted before its rankings came: exit 1, as when idle.
      {with({"demo", "--step", "leaderboard", "--out", out}, dead), 1},
      {with({"demo", "--step", "live"}, dead), 1},
      {with({"demo", "--step", "history"}, dead), 128 + SIGTERM, true},
      {with({"demo", "--step", "train", "--out", out}, dead), 128 + SIGTERM, true},
  };
  for (const Case& c : cases) {
    std::string name;
    for (const std::string& a : c.args) name += " " + a;
    SCOPED_TRACE(name);
    CliProcess p(c.args, dir / "out", dir / "err");
    ASSERT_TRUE(p.started());
    // While it starts (when the test sees that window), else at once.
    const bool caught = wait_for([&] { return testing::catches(p.pid(), SIGTERM) || !p.running(); },
                                 c.keeps_default ? 3s : 20s);
    ASSERT_TRUE(caught || c.keeps_default) << p.err();
    ASSERT_TRUE(p.running()) << p.err();
    EXPECT_EQ(p.stop_with(SIGTERM), c.exit_code) << p.err();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "bs"));
}

TEST(CliStop, EmbeddedBrokerStopsOnASignalAndRemovesItsBootstrapFile) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(signal_name(sig));
    TempDir dir;
    const std::string bootstrap = dir / "bootstrap";
    CliProcess p({"broker", "--topic", "t:2", "--bootstrap-file", bootstrap}, dir / "out", dir / "err");
    ASSERT_TRUE(p.started());
    ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(bootstrap) || !p.running(); }, 60s))
        << p.err();
    ASSERT_TRUE(p.running()) << p.err();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(p.stop_with(sig), 0) << p.err();
    EXPECT_FALSE(std::filesystem::exists(bootstrap));
  }
}

}  // namespace
}  // namespace streamml::train
