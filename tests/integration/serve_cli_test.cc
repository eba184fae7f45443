// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// `streamml serve` as a child process: SIGKILL mid-stream then restart
// (at-least-once and exactly-once), two processes in one group with one
// stopped mid-stream, graceful SIGTERM, and exit codes.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "integration/serve_support.h"
#include "support/free_port.h"
#include "support/signal_state.h"

extern char** environ;

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::Output;
using testing::TestKafka;

// A `streamml serve` child process; SIGKILLed at destruction if still running.
class ServeProcess {
 public:
  ServeProcess(std::vector<std::string> args, const std::string& log_path) : log_path_(log_path) {
    args.insert(args.begin(), {testing::cli_path(), "serve"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void kill_now() { signal_and_wait(SIGKILL, 10s); }
  // Sends `sig` and waits for the exit; returns the exit code (-1: killed by
  // a signal or still running at the timeout).
  int signal_and_wait(int sig, std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    return wait_exit(timeout);
  }
  int wait_exit(std::chrono::seconds timeout) {
    int status = 0;
    const bool exited = testing::wait_for([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

struct ServeSetup {
  std::string in, out, group, model;
  testing::TempDir dir;

  ServeSetup(const std::string& prefix, int partitions) {
    auto& kafka = TestKafka::get();
    in = kafka.create_topic(prefix + "-in", partitions);
    out = kafka.create_topic(prefix + "-out", partitions);
    group = kafka.unique_name(prefix + "-group");
    model = dir.file("model.smlm");
    testing::make_serve_model(13).save(model);
  }
  std::vector<std::string> args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {"-b", TestKafka::get().bootstrap(), "--model", model, "--input", in,
                                  "--output-topic", out, "-G", group, "--max-batch", "100",
                                  "--metrics-interval-ms", "1000"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

// Every input record (partition, offset) has at least one output.
std::set<std::pair<int32_t, int64_t>> served(const std::vector<Output>& outputs) {
  std::set<std::pair<int32_t, int64_t>> s;
  for (const Output& o : outputs) s.insert({o.source_partition(), o.source_offset()});
  return s;
}

// Produces `total` rows in chunks while `during` runs between chunks.
void produce_in_chunks(const std::string& topic, int total, int chunk, int partitions,
                       const std::function<void(int produced)>& between) {
  for (int from = 0; from < total; from += chunk) {
    testing::produce_rows(topic, from, std::min(total, from + chunk), partitions);
    between(std::min(total, from + chunk));
  }
}

void kill_and_restart(bool exactly_once) {
  constexpr int kPartitions = 2, kRecords = 3000;
  ServeSetup s(exactly_once ? "serve-kill-eos" : "serve-kill", kPartitions);
  std::vector<std::string> extra;
  if (exactly_once) extra = {"--exactly-once", "--instance-id", "kill-test"};
  testing::OutputReader reader(s.out, kPartitions);
  auto first = std::make_unique<ServeProcess>(s.args(extra), s.dir.file("serve1.log"));
  ASSERT_TRUE(first->started());
  bool killed = false;
  produce_in_chunks(s.in, kRecords, 250, kPartitions, [&](int produced) {
    if (!killed && produced >= kRecords / 2) {
      // SIGKILL once some outputs exist, mid-stream.
      reader.read_at_least(200, 30s);
      first->kill_now();
      killed = true;
    }
  });
  ASSERT_TRUE(killed);
  const size_t before_restart = reader.outputs().size();
  EXPECT_GE(before_restart, 200u) << first->log();
  ServeProcess second(s.args(extra), s.dir.file("serve2.log"));
  const auto& outputs = reader.read_until(
      [&](const std::vector<Output>& o) { return served(o).size() >= static_cast<size_t>(kRecords); }, 90s);
  const auto done = served(outputs);
  EXPECT_EQ(done.size(), static_cast<size_t>(kRecords)) << "records without an output\n" << second.log();
  EXPECT_EQ(second.signal_and_wait(SIGTERM, 30s), 0) << second.log();
  // Offsets committed for every record that has an output.
  EXPECT_EQ(testing::committed_offsets(s.group, s.in, kPartitions),
            std::vector<int64_t>(kPartitions, kRecords / kPartitions));
  if (exactly_once && !TestKafka::get().external()) {
    // The embedded cluster does not filter aborted records for
    // read_committed readers: duplicates are only checked on a real broker.
    return;
  }
  if (exactly_once) {
    EXPECT_EQ(outputs.size(), static_cast<size_t>(kRecords)) << "duplicates";
  }
}

TEST(ServeCli, SigkillThenRestartLeavesNoRecordWithoutAnOutput) { kill_and_restart(false); }

TEST(ServeCli, ExactlyOnceSigkillThenRestartCommitsOffsetsWithOutputs) { kill_and_restart(true); }

TEST(ServeCli, TwoProcessesInOneGroupServeEveryRecordWhenOneStops) {
  constexpr int kPartitions = 4, kRecords = 4000;
  ServeSetup s("serve-two", kPartitions);
  testing::OutputReader reader(s.out, kPartitions);
  ServeProcess a(s.args(), s.dir.file("a.log"));
  ServeProcess b(s.args(), s.dir.file("b.log"));
  // Wait until both joined (each logs its assignment).
  ASSERT_TRUE(testing::wait_for(
      [&] {
        return a.log().find("assigned") != std::string::npos && b.log().find("assigned") != std::string::npos;
      },
      30s))
      << a.log() << b.log();
  bool stopped = false;
  produce_in_chunks(s.in, kRecords, 400, kPartitions, [&](int produced) {
    if (!stopped && produced >= kRecords / 2) {
      reader.read_at_least(static_cast<size_t>(produced) / 2, 30s);
      EXPECT_EQ(b.signal_and_wait(SIGTERM, 30s), 0) << b.log();
      stopped = true;
    }
  });
  const auto& outputs = reader.read_until(
      [&](const std::vector<Output>& o) { return served(o).size() >= static_cast<size_t>(kRecords); }, 90s);
  EXPECT_EQ(served(outputs).size(), static_cast<size_t>(kRecords)) << a.log();
  EXPECT_NE(b.log().find("serve: stopped"), std::string::npos) << b.log();
  EXPECT_EQ(a.signal_and_wait(SIGINT, 30s), 0) << a.log();
  EXPECT_EQ(testing::committed_offsets(s.group, s.in, kPartitions),
            std::vector<int64_t>(kPartitions, kRecords / kPartitions));
}

TEST(ServeCli, ExitCodes) {
  ServeSetup s("serve-codes", 1);
  std::string out;
  const std::string base = testing::cli_path() + " serve -b " + TestKafka::get().bootstrap() + " --input " + s.in +
                           " --output-topic " + s.out + " -G " + s.group;
  EXPECT_EQ(testing::run_command(base + " --model " + s.dir.file("missing.smlm") + " 2>&1", &out), 1) << out;
  EXPECT_NE(out.find("missing.smlm"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(testing::run_command(base + " --model " + s.model + " --max-batch 0 2>&1", &out), 2) << out;
  EXPECT_NE(out.find("--max-batch"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(testing::run_command(base + " --model " + s.model + " --format xml 2>&1", &out), 2) << out;
  EXPECT_NE(out.find("--format"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(testing::run_command(testing::cli_path() + " serve --model x 2>&1", &out), 2);
  EXPECT_NE(out.find("streamml: error: "), std::string::npos) << out;
}

// The names serve had before the flags were unified still work for one
// release, each with a deprecation note on stderr: --output (now
// --output-topic), --output-format (--format) and --decoder (--decode).
TEST(ServeCli, OldFlagNamesStillWorkWithADeprecationNote) {
  ServeSetup s("serve-aliases", 1);
  std::string out;
  // --format xml fails after the options were parsed: the aliases were accepted.
  const std::string cmd = testing::cli_path() + " serve -b " + TestKafka::get().bootstrap() + " --input " + s.in +
                          " --output " + s.out + " -G " + s.group + " --model " + s.model +
                          " --output-format xml --decoder csv:columns=2 2>&1";
  EXPECT_EQ(testing::run_command(cmd, &out), 2) << out;
  for (const char* note : {"--output is deprecated and will be removed; use --output-topic",
                           "--output-format is deprecated and will be removed; use --format",
                           "--decoder is deprecated and will be removed; use --decode"}) {
    EXPECT_NE(out.find("streamml: warning: " + std::string(note)), std::string::npos) << out;
  }
  EXPECT_NE(out.find("--format: expected json or csv, got 'xml'"), std::string::npos) << out;
  // The old names are hidden from --help; the new ones are listed.
  std::string help;
  ASSERT_EQ(testing::run_command(testing::cli_path() + " serve --help", &help), 0);
  for (const char* name : {"--output-topic", "--format", "--decode"}) {
    EXPECT_NE(help.find(name), std::string::npos) << help;
  }
  for (const char* name : {"--output-format", "--decoder", "--output "}) {
    EXPECT_EQ(help.find(name), std::string::npos) << name << " in\n" << help;
  }
}

// A SIGTERM while serve starts is a graceful stop. serve catches it before
// LibTorch's static initializers run (they take ~0.3 s, seconds on a busy
// machine), long before it reaches the cluster: here an address where
// nobody answers, so serve would wait out its --timeout and fail.
TEST(ServeCli, SigtermWhileStartingExitsZero) {
  ServeSetup s("serve-early-term", 1);
  ServeProcess serve({"-b", "127.0.0.1:1", "--timeout", "5000", "--model", s.model, "--input", s.in, "--output-topic",
                      s.out, "-G", s.group},
                     s.dir.file("serve.log"));
  ASSERT_TRUE(serve.started());
  ASSERT_TRUE(testing::wait_for([&] { return testing::catches(serve.pid(), SIGTERM); }, 4s))
      << "serve does not catch SIGTERM while it starts\n" << serve.log();
  EXPECT_EQ(serve.signal_and_wait(SIGTERM, 30s), 0) << serve.log();
}

TEST(ServeCli, AMetricsPortOutsideOneTo65535IsRejectedNamingTheOption) {
  std::string out;
  // Rejected before the cluster is reached (nobody answers at 127.0.0.1:1).
  EXPECT_EQ(testing::run_command(testing::cli_path() +
                                     " serve -b 127.0.0.1:1 --timeout 500 --model m --input a --output b -G g "
                                     "--metrics-port 99999 2>&1",
                                 &out),
            2)
      << out;
  EXPECT_NE(out.find("--metrics-port"), std::string::npos) << out;
  EXPECT_NE(out.find("99999"), std::string::npos) << out;
}

TEST(ServeCli, ASecondServeOnTheSameMetricsPortExitsOneNamingThePort) {
  ServeSetup s("serve-port", 1);
  const int port = testing::free_port();
  const std::string p = std::to_string(port);
  ServeProcess first(s.args({"--metrics-port", p, "--metrics-host", "127.0.0.1"}), s.dir.file("first.log"));
  ASSERT_TRUE(testing::wait_for([&] { return first.log().find("serve: ") != std::string::npos; }, 60s))
      << first.log();
  ServeProcess second(s.args({"--metrics-port", p, "--metrics-host", "127.0.0.1"}), s.dir.file("second.log"));
  EXPECT_EQ(second.wait_exit(60s), 1) << second.log();
  EXPECT_NE(second.log().find("metrics port " + p + " is already in use"), std::string::npos) << second.log();
  EXPECT_EQ(first.signal_and_wait(SIGTERM, 30s), 0) << first.log();
}

}  // namespace
}  // namespace streamml::serve
