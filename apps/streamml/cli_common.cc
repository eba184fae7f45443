// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "cli_common.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "streamml/common/allocator.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/error.h"
#include "streamml/version.h"

namespace streamml::cli {
namespace {

// Set by the SIGINT/SIGTERM handler: a lock-free atomic is safe to store to
// there, and library loops read it directly (stop_flag()).
std::atomic<bool> g_stopped{false};
static_assert(std::atomic<bool>::is_always_lock_free);
volatile sig_atomic_t g_stop_signal = 0;  // which one came

void on_signal(int sig) {
  g_stop_signal = sig;
  g_stopped.store(true);
}

// The commands that stop gracefully on SIGINT/SIGTERM catch them from the very
// start. LibTorch's static initializers run for ~0.3 s before main() (seconds
// on a busy machine), and a signal then killed the process (exit 130 or 143).
// The executable's .preinit_array runs before every shared library's
// initializers; it installs the stop handlers when the command is one of
// these (the others keep the default dispositions; `demo` gives them back for
// its steps that do not stop early: restore_stop_signals()).
void catch_stop_signals_early(int argc, char** argv, char**) {
  int i = 1;
  while (i < argc && std::strncmp(argv[i], "--log-level", 11) == 0) i += std::strchr(argv[i], '=') ? 1 : 2;
  if (i >= argc) return;
  for (const char* command : {"serve", "consume", "broker", "demo"}) {
    if (std::strcmp(argv[i], command) == 0) install_stop_signals();
  }
}
[[gnu::used, gnu::section(".preinit_array")]] void (*const kCatchStopSignalsEarly)(int, char**, char**) =
    &catch_stop_signals_early;

}  // namespace

void KafkaOptions::add_to(CLI::App& app, bool brokers_required) {
  auto* b = app.add_option("-b,--brokers", brokers,
                           "Bootstrap servers host:port[,...], or 'embedded' for an in-process cluster");
  if (brokers_required) b->required();
  app.add_option("-X", properties, "librdkafka property key=value (repeatable)")
      ->allow_extra_args(false);  // one value per -X: never swallow positionals
  app.add_option("--timeout", timeout_ms, "Milliseconds to wait for the cluster to answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

kafka::Config KafkaOptions::make_config() {
  kafka::Config config;
  if (brokers == "embedded") {
    embedded = std::make_unique<kafka::EmbeddedCluster>();
    config.set("bootstrap.servers", embedded->bootstrap_servers());
    log_info("started an embedded Kafka cluster at {}", embedded->bootstrap_servers());
  } else {
    config.set("bootstrap.servers", brokers);
  }
  for (const auto& p : properties) config.set_property(p);
  // Fail fast and clearly when nobody answers at the bootstrap address. The
  // wait is cut into slices so that a stop signal ends it: the command then
  // sees stop_requested() and stops.
  kafka::Config probe = config;
  probe.set_default("socket.connection.setup.timeout.ms", std::to_string(std::max(timeout_ms, 1000)));
  kafka::Admin admin(probe);
  using Clock = std::chrono::steady_clock;
  constexpr kafka::milliseconds kSlice{250};
  const Clock::time_point deadline = Clock::now() + timeout();
  for (;;) {
    const Clock::time_point started = Clock::now();
    const auto left = std::chrono::duration_cast<kafka::milliseconds>(deadline - started);
    try {
      admin.brokers(std::clamp(left, kafka::milliseconds(1), kSlice));
      break;
    } catch (const kafka::KafkaException& e) {
      if (stop_requested()) break;
      if (Clock::now() >= deadline) {
        // The error's own text names the last slice's timeout: give librdkafka's reason.
        throw kafka::KafkaException(e.code(), "cannot reach Kafka at '" + brokers + "' within " +
                                                  std::to_string(timeout_ms) +
                                                  " ms (--timeout): " + kafka::KafkaError(e.code()).message());
      }
      // An error that came at once (not a timeout) is not retried in a busy loop.
      std::this_thread::sleep_until(std::min(deadline, started + kSlice));
    }
  }
  log_debug("Kafka config: {}", config.to_string());
  return config;
}

CLI::Validator at_least_check(long long minimum, std::string hint, std::string name) {
  return CLI::Validator(
      [minimum, hint](std::string& value) -> std::string {
        long long number = 0;
        // Not a number: left to CLI11's conversion, which names the option.
        if (!CLI::detail::lexical_cast(value, number) || number >= minimum) return "";
        return value + " is invalid: " + hint;
      },
      std::move(name));
}

CLI::Validator stream_timeout_check() {
  return at_least_check(-1, "use -1 (never stop) or a value >= 0", "MS>=-1");
}

void add_on_data_loss_option(CLI::App& app, std::string& value) {
  app.add_option("--on-data-loss", value,
                 "Group reading (-G): when records were removed by retention before they were read, report (log "
                 "an error naming them, count them, go on from the log start) or fail")
      ->capture_default_str()
      ->check(CLI::IsMember({"report", "fail"}));
}

kafka::DataLossPolicy parse_data_loss_policy(const std::string& value) {
  return value == "fail" ? kafka::DataLossPolicy::kFail : kafka::DataLossPolicy::kReport;
}

std::string version_text() {
  return std::string("streamml ") + kVersion + " (librdkafka " + kafka::librdkafka_version() + ", " +
         allocator_name() + ")";
}

CLI::Option* add_deprecated_alias(CLI::App& app, const std::string& old_name, const std::string& new_name,
                                  std::string& target) {
  return app.add_option(old_name, target, "Deprecated: use " + new_name)
      ->group("")  // hidden from --help
      ->each([old_name, new_name](const std::string&) {
        std::fprintf(stderr, "streamml: warning: %s is deprecated and will be removed; use %s\n", old_name.c_str(),
                     new_name.c_str());
      });
}

void set_examples(CLI::App& app, const std::vector<std::string>& examples) {
  // After any footer the command has (e.g. broker's limits).
  std::string text = app.get_footer().empty() ? "Examples:" : app.get_footer() + "\n\nExamples:";
  for (const std::string& example : examples) text += "\n  " + example;
  app.footer(std::move(text));
}

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stopped.load(); }

const std::atomic<bool>& stop_flag() { return g_stopped; }

void restore_stop_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (g_stop_signal != 0) std::raise(g_stop_signal);
}

}  // namespace streamml::cli
