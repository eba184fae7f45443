// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Shared pieces of the fault-injection integration tests (embedded cluster
// only): the faults of issue #7 as one enum, an injector that applies them
// (and undoes them at the end), and a log capture to check that a process
// says what happened.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>  // environ

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "streamml/common/logging.h"
#include "streamml/kafka/embedded_cluster.h"
#include "support/test_kafka.h"

namespace streamml::testing {

// Kafka protocol error codes the tests inject.
inline constexpr int kErrNotLeaderForPartition = 6;
inline constexpr int kErrRequestTimedOut = 7;
inline constexpr int kErrNotCoordinator = 16;

enum class Fault {
  kBrokerDownUp,        // the leader of partition 0 (and group coordinator) down for 2 s, then up
  kLeaderMoved,         // every partition's leader moves to another broker
  kFetchErrors,         // transient errors on the next Fetch requests
  kOffsetCommitErrors,  // transient errors on the next OffsetCommit requests
  kProduceErrors,       // transient errors on the next Produce requests
  kCoordinatorMoved,    // the group coordinator moves to another broker
  kTxnOffsetCommitErrors,  // transient errors on the next TxnOffsetCommit requests (exactly-once)
  kBrokerDownLong,      // as kBrokerDownUp, but down for 14 s: past librdkafka's 10 s call timeouts
};

inline const char* fault_name(Fault f) {
  switch (f) {
    case Fault::kBrokerDownUp: return "BrokerDownUp";
    case Fault::kLeaderMoved: return "LeaderMoved";
    case Fault::kFetchErrors: return "FetchErrors";
    case Fault::kOffsetCommitErrors: return "OffsetCommitErrors";
    case Fault::kProduceErrors: return "ProduceErrors";
    case Fault::kCoordinatorMoved: return "CoordinatorMoved";
    case Fault::kTxnOffsetCommitErrors: return "TxnOffsetCommitErrors";
    case Fault::kBrokerDownLong: return "BrokerDownLong";
  }
  return "?";
}

// Applies faults to the embedded cluster; joins its helper thread and undoes
// every fault (brokers up, injected errors cleared) at destruction.
class FaultInjector {
 public:
  static constexpr std::chrono::seconds kDownTime{2};
  static constexpr std::chrono::seconds kLongDownTime{14};

  explicit FaultInjector(kafka::EmbeddedCluster* cluster) : cluster_(cluster) {}
  ~FaultInjector() { undo(); }
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Before the clients start: for kBrokerDownUp(Long), makes the broker that will go
  // down the coordinator of `group` as well, so one outage hits fetches,
  // produces and commits together.
  // For kCoordinatorMoved, pins the coordinator to broker 1 so that inject()
  // surely moves it.
  void prepare(Fault fault, const std::string& topic, const std::string& group) {
    if (group.empty()) return;
    if (fault == Fault::kBrokerDownUp || fault == Fault::kBrokerDownLong) {
      cluster_->set_group_coordinator(group, leader_of(topic, 0));
    }
    if (fault == Fault::kCoordinatorMoved) cluster_->set_group_coordinator(group, 1);
  }

  // Injects `fault` now. kBrokerDownUp(Long) returns at once; the broker comes
  // back kDownTime (kLongDownTime) later on a helper thread (or at undo()).
  void inject(Fault fault, const std::string& topic, int partitions, const std::string& group) {
    switch (fault) {
      case Fault::kBrokerDownUp:
      case Fault::kBrokerDownLong: {
        const int32_t broker = leader_of(topic, 0);
        const auto down_for = fault == Fault::kBrokerDownLong ? kLongDownTime : kDownTime;
        cluster_->broker_down(broker);
        up_thread_ = std::thread([this, broker, down_for] {
          std::this_thread::sleep_for(down_for);
          cluster_->broker_up(broker);
        });
        break;
      }
      case Fault::kLeaderMoved:
        for (int p = 0; p < partitions; ++p) {
          const int32_t leader = leader_of(topic, p);
          cluster_->set_partition_leader(topic, p, leader % cluster_->num_brokers() + 1);
        }
        break;
      case Fault::kFetchErrors:
        cluster_->push_request_errors(kafka::ApiKey::kFetch, transient_errors());
        break;
      case Fault::kOffsetCommitErrors:
        // More than librdkafka's own retries of one request absorb, so that
        // the client sees a failed commit.
        cluster_->push_request_errors(kafka::ApiKey::kOffsetCommit,
                                      std::vector<int>(5, kErrRequestTimedOut));
        break;
      case Fault::kProduceErrors:
        cluster_->push_request_errors(kafka::ApiKey::kProduce, transient_errors());
        break;
      case Fault::kTxnOffsetCommitErrors:
        cluster_->push_request_errors(kafka::ApiKey::kTxnOffsetCommit,
                                      {kErrNotCoordinator, kErrRequestTimedOut, kErrRequestTimedOut});
        break;
      case Fault::kCoordinatorMoved:  // from broker 1 (prepare()) to broker 2
        cluster_->set_group_coordinator(group, cluster_->num_brokers() > 1 ? 2 : 1);
        break;
    }
  }

  void undo() {
    if (up_thread_.joinable()) up_thread_.join();
    if (cluster_ == nullptr) return;
    for (int32_t id : cluster_->broker_ids()) cluster_->broker_up(id);
    for (auto api : {kafka::ApiKey::kFetch, kafka::ApiKey::kOffsetCommit, kafka::ApiKey::kProduce,
                     kafka::ApiKey::kTxnOffsetCommit}) {
      cluster_->clear_request_errors(api);
    }
  }

  static std::vector<int> transient_errors() {
    return {kErrNotLeaderForPartition, kErrRequestTimedOut, kErrNotLeaderForPartition, kErrRequestTimedOut};
  }

 private:
  kafka::EmbeddedCluster* cluster_;
  std::thread up_thread_;
};

// Collects log lines (warn and above) while it lives, still printing them to
// stderr; restores the default sink at destruction. One at a time.
class LogCapture {
 public:
  LogCapture() {
    set_log_sink([this](LogLevel level, std::string_view message) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
      if (level < LogLevel::kWarn) return;
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(message);
    });
  }
  ~LogCapture() { set_log_sink(nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_.size();
  }
  std::string text() const {
    std::string out;
    for (const auto& l : lines()) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A child process running the streamml CLI with stdout to /dev/null and
// stderr appended to a log file. SIGKILLed and reaped at destruction if it is
// still running.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> args, std::string log_path) : log_path_(std::move(log_path)) {
    args.insert(args.begin(), cli_path());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), ::environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }
  // SIGKILL and reap; true when it was still running (killed, not exited).
  bool kill_now() {
    if (!running()) return false;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return true;
  }
  // Sends `sig` and waits for the exit; the exit code, or -1 when killed by
  // a signal or still running after `timeout`.
  int signal_and_wait(int sig, std::chrono::seconds timeout) {
    if (pid_ > 0) ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return running() ? -1 : exit_code_;
  }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

}  // namespace streamml::testing
