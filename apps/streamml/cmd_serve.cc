// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml serve: real-time inference from input topics to an output topic
// as a consumer group (serve/server.h). SIGINT/SIGTERM stop gracefully,
// SIGHUP reloads the model file.
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "cli_common.h"
#include "command.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/serve/model_processor.h"
#include "streamml/serve/server.h"

namespace streamml::cli {
namespace {

volatile sig_atomic_t g_reload = 0;
void on_sighup(int) { g_reload = 1; }

struct ServeCliOptions {
  KafkaOptions kafka;
  std::string model;
  std::string decode;
  std::string format = "json";
  bool watch = false;
  std::string on_data_loss = "report";
  serve::ServerOptions server;
};

int run(ServeCliOptions& o) {
  // A SIGINT/SIGTERM while serve starts (before main(), while the cluster is
  // probed) is a graceful stop, like one while serving.
  install_stop_signals();
  if (stop_requested()) return kExitOk;
  if (o.server.output_topic.empty()) throw ConfigError("--output-topic TOPIC is required: where predictions go");
  serve::ModelProcessorOptions processor;
  processor.model_path = o.model;
  processor.format = serve::parse_output_format(o.format);
  processor.decoder_spec = o.decode;
  if (o.watch) o.server.watch_path = o.model;
  o.server.on_data_loss = parse_data_loss_policy(o.on_data_loss);
  try {
    o.server.kafka = o.kafka.make_config();
  } catch (const std::exception&) {
    if (stop_requested()) return kExitOk;
    throw;
  }
  serve::Server server(o.server, serve::model_processor_factory(processor));
  if (stop_requested()) return kExitOk;

  struct sigaction sa = {};
  sa.sa_handler = &on_sighup;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, nullptr);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (stop_requested()) {
        server.stop();
        break;
      }
      if (g_reload) {
        g_reload = 0;
        log_info("serve: SIGHUP: reloading {}", o.model);
        server.reload();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  try {
    server.run();
  } catch (...) {
    done = true;
    watcher.join();
    throw;
  }
  done = true;
  watcher.join();
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<ServeCliOptions>();
  o->kafka.add_to(sub);
  sub.add_option("--model", o->model, "Model file (streamml train/save)")->required();
  sub.add_option("--input", o->server.input_topics, "Input topic(s)")->required();
  sub.add_option("--output-topic", o->server.output_topic, "Output topic (required)");
  add_deprecated_alias(sub, "--output", "--output-topic", o->server.output_topic);
  sub.add_option("-G,--group", o->server.group, "Consumer group (processes in one group share partitions)")
      ->required();
  sub.add_option("--max-batch", o->server.max_batch, "Close a micro-batch at this many records")
      ->capture_default_str();
  sub.add_option("--max-wait-us", o->server.max_wait_us, "...or this long after its first record (0: with the records already fetched)")
      ->capture_default_str();
  sub.add_option("--max-in-flight", o->server.max_in_flight,
                 "At-least-once: at most this many records produced and not yet acknowledged (back-pressure; "
                 "0: as many as the producer's queue holds, -X queue.buffering.max.messages/.kbytes)")
      ->capture_default_str();
  sub.add_flag("--exactly-once", o->server.exactly_once,
               "Transactional write-back: outputs and consumed offsets in one transaction per batch");
  sub.add_flag("--busy-fetch", o->server.busy_fetch,
               "Lowest latency: fetch again at once instead of letting the broker hold an empty fetch "
               "(fetch.wait.max.ms=0; the embedded cluster holds it the whole 1 ms; costs CPU while idle)");
  sub.add_option("--instance-id", o->server.instance_id,
                 "Stable id of this process for its transactional.id (default: host name; give "
                 "each process on one host its own with --exactly-once)");
  sub.add_option("--dead-letter", o->server.dead_letter_topic, "Topic for undecodable/rejected records");
  add_on_data_loss_option(sub, o->on_data_loss);
  sub.add_option("--format", o->format, "Predictions as json or csv")->capture_default_str();
  add_deprecated_alias(sub, "--output-format", "--format", o->format);
  sub.add_option("--decode", o->decode, "Decoder spec (default: the one stored in the model file)");
  add_deprecated_alias(sub, "--decoder", "--decode", o->decode);
  sub.add_option("--metrics-port", o->server.metrics_port, "Serve /metrics and /healthz on this port (1..65535; 0: off)")
      ->check(CLI::Range(0, 65535));
  sub.add_option("--metrics-host", o->server.metrics_host, "Address the metrics server listens on")
      ->capture_default_str();
  sub.add_option("--metrics-interval-ms", o->server.metrics_interval_ms, "Stderr metrics period (0: off)")
      ->capture_default_str();
  sub.add_flag("--watch", o->watch, "Reload the model when its file changes (SIGHUP reloads too)");
  set_examples(sub, {"streamml serve -b localhost:9092 --model model.smlm --input requests --output-topic scores -G scorer",
                     "streamml serve -b localhost:9092 --model model.smlm --input requests --output-topic scores -G scorer "
                     "--exactly-once --metrics-port 9100 --watch"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("serve", "Real-time inference: input topics -> model -> output topic", 75, setup);

}  // namespace streamml::cli
