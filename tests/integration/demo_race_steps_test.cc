// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The step-by-step sequence of docs/horse_race.md, run with the CLI against a
// broker in another process (`streamml broker`, or STREAMML_TEST_BOOTSTRAP):
// history -> train -> serve & leaderboard & live. Scaled down (20 history
// races, 2 live races at 200x).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_kafka.h"

namespace streamml::demo {
namespace {

using testing::cli_path;
using testing::run_command;
using testing::run_command_capture;
using testing::TestKafka;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DemoRaceStepsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / TestKafka::get().unique_name("demo-steps");
    std::filesystem::create_directories(dir_);
    if (TestKafka::get().external()) {
      bootstrap_ = TestKafka::get().bootstrap();
      return;
    }
    // Topic creation on an embedded cluster from another process needs the
    // control socket that `streamml broker` publishes.
    ASSERT_EQ(run_command("cd " + dir_.string() + " && (" + cli_path() +
                          " broker --bootstrap-file bs.txt > broker.log 2>&1 & echo $! > broker.pid)"),
              0);
    for (int i = 0; i < 200 && bootstrap_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      bootstrap_ = read_file(dir_ / "bs.txt");
      while (!bootstrap_.empty() && (bootstrap_.back() == '\n' || bootstrap_.back() == ' ')) bootstrap_.pop_back();
    }
    ASSERT_FALSE(bootstrap_.empty()) << read_file(dir_ / "broker.log");
  }

  void TearDown() override {
    if (std::filesystem::exists(dir_ / "broker.pid")) {
      run_command("kill $(cat " + (dir_ / "broker.pid").string() + ") 2>/dev/null");
    }
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string bootstrap_;
};

TEST_F(DemoRaceStepsTest, DocumentedSequenceRunsAgainstABroker) {
  const std::string cli = cli_path();
  const std::string common = " -b " + bootstrap_ + " --topic-prefix " + TestKafka::get().unique_name("race") +
                             " --seed 3 --history-races 20 --live-races 2 --out " + (dir_ / "models").string();
  std::string out;
  ASSERT_EQ(run_command(cli + " demo --step history" + common + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("produced 20 history races"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(run_command(cli + " demo --step train --epochs 1" + common + " 2>&1", &out), 0) << out;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "models" / "live_model.smlm")) << out;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "models" / "form_model.smlm")) << out;

  // Leaderboard and service first; the live races start once the service
  // says its group has assigned the partitions (as the doc does it, so the
  // group join stays out of the latency). The leaderboard exits once every
  // live record has its ranking, the service when input stops.
  const std::string script = "cd " + dir_.string() + " || exit 1; " +
                             cli + " demo --step leaderboard --plain --idle-timeout 30000" + common +
                             " > board.txt 2>&1 & B=$!; " +
                             "(" + cli + " demo --step serve --idle-timeout 8000" + common +
                             " > serve.txt 2>&1; echo $? > serve.rc) & " +
                             "for i in $(seq 1200); do grep -q \"ranking service: serving\" serve.txt && break; "
                             "sleep 0.1; done; grep -q \"ranking service: serving\" serve.txt || echo serve-not-ready; " +
                             cli + " demo --step live --speed 200" + common +
                             " > live.txt 2>&1; L=$?; wait $B; R=$?; wait; echo live=$L board=$R";
  out.clear();
  ASSERT_EQ(run_command("bash -c '" + script + "'", &out), 0) << out;
  const std::string board = read_file(dir_ / "board.txt");
  const std::string serve = read_file(dir_ / "serve.txt");
  EXPECT_EQ(out.find("serve-not-ready"), std::string::npos) << "the serve step never said it was serving:\n" << serve;
  EXPECT_NE(out.find("live=0 board=0"), std::string::npos)
      << out << "\nlive:\n" << read_file(dir_ / "live.txt") << "\nboard:\n" << board << "\nserve:\n" << serve;
  EXPECT_NE(board.find("winner #"), std::string::npos) << board;  // final board line of a race
  EXPECT_NE(board.find("races 2/2 finished"), std::string::npos) << board;  // the whole run's progress line
  // The leaderboard's logs went to the output directory, and its first line says so.
  EXPECT_EQ(board.find("streamml demo: logs go to " + (dir_ / "models" / "demo.log").string() + "\n"), 0u) << board;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "models" / "demo.log"));
  EXPECT_NE(board.find("streaming model"), std::string::npos) << board;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "models" / "report.md"));
  EXPECT_NE(serve.find("0 rejected"), std::string::npos) << serve;
  EXPECT_EQ(read_file(dir_ / "serve.rc"), "0\n") << serve;
}

// `streamml demo` (every step in one process) keeps its log lines off the
// terminal: they go to <out>/demo.log, which the first line of stdout names;
// the terminal gets the board (here --plain: a line per finished race and the
// progress line) and the report.
TEST_F(DemoRaceStepsTest, WholeDemoLogsToAFileInTheOutputDirectory) {
  const std::filesystem::path out_dir = dir_ / "out";
  const std::string command =
      cli_path() + " demo --plain -b " + bootstrap_ + " --topic-prefix " + TestKafka::get().unique_name("race") +
      " --seed 5 --history-races 20 --live-races 2 --epochs 1 --speed 200 --out " + out_dir.string() + " > " +
      (dir_ / "stdout.txt").string() + " 2> " + (dir_ / "stderr.txt").string();
  ASSERT_EQ(run_command(command), 0) << read_file(dir_ / "stdout.txt") << read_file(dir_ / "stderr.txt");
  const std::string out = read_file(dir_ / "stdout.txt");
  const std::string err = read_file(dir_ / "stderr.txt");
  const std::string log = read_file(out_dir / "demo.log");
  EXPECT_EQ(out.find("streamml demo: logs go to " + (out_dir / "demo.log").string() + "\n"), 0u) << out;
  // The step logs are in the file, not on the terminal.
  for (const char* line : {"history: 20 races", "training: 20 races", "live: "}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << " missing from demo.log:\n" << log;
    EXPECT_EQ(out.find(line), std::string::npos) << line << " on stdout:\n" << out;
    EXPECT_EQ(err.find(line), std::string::npos) << line << " on stderr:\n" << err;
  }
  EXPECT_NE(log.find(" info "), std::string::npos) << "log lines carry their level:\n" << log;
  EXPECT_EQ(err.find(" info "), std::string::npos) << err;
  // The terminal shows the board and the report.
  EXPECT_NE(out.find("winner #"), std::string::npos) << out;
  EXPECT_NE(out.find("races 2/2 finished"), std::string::npos) << out;
  EXPECT_NE(out.find("streaming model"), std::string::npos) << out;
  EXPECT_NE(out.find("log: " + (out_dir / "demo.log").string()), std::string::npos) << out;
}

// --web on a port another socket holds: the demo stops before it starts,
// with an error naming the flags, not only the library's message.
TEST(DemoWebCli, APortInUseIsAnErrorNamingTheFlag) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  const auto r = run_command_capture(cli_path() + " demo --history-races 10 --live-races 1 --web " + port);
  close(fd);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("streamml: error: --web " + port + " --web-bind 127.0.0.1: race page: cannot listen"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace streamml::demo
