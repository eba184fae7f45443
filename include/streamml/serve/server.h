// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Server: the real-time inference loop behind `streamml serve`.
//
//   consume (consumer group) -> micro-batch (the records already fetched,
//   plus those arriving within max_wait_us of its first record, up to
//   max_batch) -> decode with the processor's
//   decoder -> Processor::process -> produce one output per input -> commit.
//
// Outputs: key = the input's key (unless the processor sets another), value =
// the processor's output, headers = the processor's headers plus
//   streamml.source.topic / .partition / .offset / .timestamp  (see
//   data/dead_letter.h) and streamml.model.version (kHeaderModelVersion).
// Partitioning: when the output topic has as many partitions as the input
// topic, an output goes to the input's partition number (so per-partition
// order and co-partitioning carry over); otherwise to the partitioner (by
// key). Either way per-partition input order is kept (idempotent producer).
//
// Delivery:
//   at-least-once (default): outputs are produced asynchronously; a FIFO of
//     in-flight micro-batches tracks each batch's unacknowledged outputs
//     through the delivery reports, which the producer's poll thread serves.
//     Back-pressure: the loop polls the next micro-batch only when the
//     in-flight batches hold at most max_in_flight - max_batch records, so at
//     most max(max_in_flight, max_batch) records are in flight (1: one batch
//     at a time, each fully acknowledged before the next is polled), and at
//     most half the output producer's queue bytes. By default
//     (max_in_flight = 0) the window is the producer's own queue: as many
//     records as it holds (queue.buffering.max.messages, 100,000), and its
//     bytes (queue.buffering.max.kbytes, serve's default 64 MiB): a fixed
//     record window caps the rate at window / acknowledgement latency, which
//     grows under load. Memory in flight is the producer's queue.
//     A batch's offsets are committed (asynchronously) only once it and every
//     batch before it were fully acknowledged, dead letters included. An
//     output that is not delivered stops the pipeline: the batches before it
//     are committed, run() throws kafka::KafkaException, and nothing at or after it
//     is committed. On revocation and on stop the outputs in flight are
//     awaited (flush) and committed synchronously before the group moves on.
//   exactly_once: a transactional producer (transactional.id =
//     "streamml-serve-<group>-<instance_id>"); one transaction per micro-batch:
//     begin -> outputs -> send_offsets_to_transaction -> commit. An abortable
//     error aborts and rewinds the consumer to the batch's first offsets;
//     fencing (a newer instance with the same id or a newer group generation)
//     ends run() with kafka::KafkaException. Dead letters use a separate,
//     idempotent producer flushed before the transaction commits (they are
//     at-least-once, never lost). Where the cluster does not store a
//     transaction's offsets (EmbeddedCluster; see
//     kafka::Consumer::stores_transactional_offsets), they are also committed
//     with a plain commit after each transaction.
// Rebalances: no transaction is open and no batch is being produced while the
//   consumer is polled; a revocation waits for the outputs in flight, commits
//   them, and drops the not-yet-processed records of the revoked partitions
//   from the micro-batch being built (their offsets were not committed; the
//   new owner serves them).
// Bad input: a record the decoder rejects, or that the processor rejects,
//   goes to the dead-letter topic (original key and bytes, headers with the
//   error and source coordinates) or, without one, is logged with its
//   coordinates; it is counted either way and its offset is committed. So
//   is an output the producer refuses as too large (the output goes to the
//   dead-letter topic); a dead letter too large for its topic goes there
//   truncated (data/dead_letter.h). Any other output refused at once ends
//   run() with kafka::KafkaException naming the record (exactly-once: after
//   aborting the transaction, never serving the batch again).
// Hot reload: reload() (SIGHUP in the CLI) or watch_path's mtime changing
//   swaps in a new processor between batches; when the factory throws, or
//   the new processor's decoder reads another format or feature count or its
//   output_schema() differs, the old processor keeps serving, the error
//   (naming both shapes) is logged and counted (stats().reload_failures).
// Metrics HTTP server (metrics_port > 0): GET /metrics and /healthz (503
//   until the group's first assignment); other methods get 405. run() throws
//   streamml::Error "metrics port P is already in use" when it cannot bind.
//
// Busy fetch (busy_fetch): the consumer asks for records again as soon as
//   a fetch comes back empty (fetch.wait.max.ms=0) instead of letting the
//   broker hold an empty fetch: lower latency where the broker holds empty
//   fetches (the embedded cluster), at the cost of CPU while idle
//   (docs/serving.md, "Busy fetch").
// Thread-safety: run() is called from one thread; stop(), reload(), stats()
// and metrics_text() are safe from any thread (stop() from a signal-watching
// thread, not from a signal handler).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "streamml/kafka/consumer.h"
#include "streamml/serve/processor.h"

namespace streamml::serve {

inline constexpr const char* kHeaderModelVersion = "streamml.model.version";

// Durations are integers with their unit in the name (max_wait_us, *_ms),
// not std::chrono: the CLI binds its flags straight into these fields.
struct ServerOptions {
  std::vector<std::string> input_topics;  // topics to serve (required)
  std::string output_topic;               // where outputs go (required)
  std::string group;                      // consumer group id (required)
  size_t max_batch = 1024;                // a micro-batch closes at this many records...
  int64_t max_wait_us = 0;                // ...or this long after its first record (0: with the records
                                          // already fetched; batches then grow with the load)
  size_t max_in_flight = 0;               // at-least-once: records produced but not yet acknowledged
                                          // (0: as many as the producer's queue holds; see above)
  bool exactly_once = false;              // transactional write-back (see above)
  bool busy_fetch = false;                // consumer fetch.wait.max.ms=0 (see "Busy fetch" above)
  std::string instance_id;                // stable id of this process in the group ("" = hostname)
  std::string dead_letter_topic;          // "" = log and count bad records only
  // Input records removed by retention before they were served (the group's
  // committed offset, or the position, fell behind the log start): kReport
  // logs an error naming them, counts them (stats().lost_records,
  // streamml_serve_lost_records_total) and serves on from the log start;
  // kFail stops run() with DataLossError naming them.
  kafka::DataLossPolicy on_data_loss = kafka::DataLossPolicy::kReport;
  int metrics_port = 0;                   // 1..65535: HTTP /metrics and /healthz on this port (0: off)
  std::string metrics_host = "0.0.0.0";   // address the metrics server binds
  int64_t metrics_interval_ms = 1000;     // stderr metrics line period (0 = off)
  std::string watch_path;                 // "" = no watch; else reload when its mtime changes
  int64_t watch_interval_ms = 500;        // how often watch_path is checked
  kafka::Config kafka;                    // bootstrap.servers and -X properties (both clients)
  // Called for every output the broker acknowledged, with its input record's
  // topic, partition and offset and its timestamp (ms, -1 if none): a hook
  // for monitoring, tests and benchmarks. Runs on the producer's delivery
  // thread: must be thread-safe, quick, and must not throw. Empty: not called.
  std::function<void(const kafka::TopicPartitionOffset& input, int64_t input_timestamp_ms)> on_acknowledged;
};

// The configuration run() gives its consumer: `kafka` with group.id,
// manual commits, auto.offset.reset=earliest and
// isolation.level=read_committed unless given, and fetch.wait.max.ms=0 with
// busy_fetch. (kafka::Consumer adds the embedded cluster's defaults.)
kafka::Config consumer_config(const ServerOptions& options);

// Counters since run() started. A value type.
struct ServerStats {
  uint64_t records_received = 0;   // records taken from the input into micro-batches
  uint64_t records_in_flight = 0;  // of which neither served nor given back yet (batch in flight)
  uint64_t records_in = 0;       // records served: their micro-batch is done (outputs acknowledged)
  uint64_t records_out = 0;      // outputs acknowledged
  uint64_t rejected = 0;         // bad records (dead-lettered or logged)
  uint64_t dead_lettered = 0;    // of which written to the dead-letter topic
  uint64_t batches = 0;          // micro-batches completed
  uint64_t reloads = 0;          // successful hot reloads
  uint64_t reload_failures = 0;  // reloads that kept the old processor
  uint64_t aborted_transactions = 0;
  uint64_t lost_records = 0;     // input records removed by retention before they were served
  size_t assigned_partitions = 0;  // input partitions assigned to this instance now
  std::string model_version;     // version of the processor now serving
  bool running = false;          // run() joined the group and got its first assignment (/healthz: 200)
};

class Server {
 public:
  // Validates the options (ConfigError naming the option). Does not connect.
  Server(ServerOptions options, ProcessorFactory factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Builds the processor (its exception propagates: a model that cannot be
  // loaded), joins the group and serves until stop(). On stop: finishes the
  // micro-batch in flight, flushes, commits, leaves the group, returns.
  // Throws kafka::KafkaException on fatal Kafka errors (fencing, undeliverable
  // outputs); offsets of unacknowledged outputs are never committed.
  void run();

  // Asks run() to return after the batch in flight. Idempotent.
  void stop();
  // Asks run() to rebuild the processor between two batches.
  void reload();

  ServerStats stats() const;
  // The Prometheus text exposition served at /metrics.
  std::string metrics_text() const;
  // The port the metrics server listens on (0 when not started).
  int metrics_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamml::serve
