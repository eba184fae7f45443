// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/decoder.h"
#include "streamml/data/decoder_spec.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "streamml/serve/metrics.h"

namespace streamml::serve {
namespace {

using Clock = std::chrono::steady_clock;

// At-least-once commits of acknowledged batches are asynchronous and at most
// this frequent (one per micro-batch cost the broker an OffsetCommit per
// millisecond at low load); revocation, stop and failure commit at once.
constexpr auto kAsyncCommitInterval = std::chrono::milliseconds(20);
// Once the commits stop changing, every acknowledged offset is committed
// once more this long after the last commit: an asynchronous commit can be
// lost without librdkafka reporting it (seen with librdkafka 2.0.2 after
// OffsetCommit errors: one partition's later commits never stored), and a
// partition whose records stopped coming would otherwise keep a stale offset
// until the graceful stop's commit (a crash re-serves from it).
constexpr auto kRecommitDelay = std::chrono::seconds(2);

// Exactly-once: how long a transactional call (sending offsets, commit,
// abort) may take in all, calling it again while it fails with a retriable
// error (kafka::Producer): librdkafka's default transaction.timeout.ms, after
// which the coordinator aborts the transaction anyway.
constexpr auto kTransactionTimeout = std::chrono::seconds(60);

// The entries of a next-offset-per-partition map, as commit() takes them.
std::vector<kafka::TopicPartitionOffset> offsets_of(const std::map<kafka::TopicPartition, int64_t>& next) {
  std::vector<kafka::TopicPartitionOffset> out;
  out.reserve(next.size());
  for (const auto& [tp, off] : next) out.push_back({tp.topic, tp.partition, off});
  return out;
}

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// The metrics server: scrapes and health checks are answered while idle
// clients hold connections (a health check must never queue behind them):
// more threads than cpp-httplib's default 8, and idle connections are
// dropped after kHttpIdleTimeout. Only GET and HEAD: anything else gets 405
// at once, without reading a body (a POST without Content-Length would
// otherwise be read until the client closes). SO_REUSEADDR only, not
// cpp-httplib's SO_REUSEPORT, so that a second process cannot bind the
// same port and share the scrapes.
constexpr size_t kHttpThreads = 32;
constexpr auto kHttpIdleTimeout = std::chrono::seconds(2);

void configure_metrics_http(httplib::Server& http) {
  http.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  http.set_read_timeout(kHttpIdleTimeout);
  http.set_write_timeout(kHttpIdleTimeout);
  http.set_keep_alive_timeout(kHttpIdleTimeout.count());
  http.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_header("Connection", "close");  // the body, if any, is not read
    res.set_content("method not allowed\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
}

// Why the metrics server could not bind host:port (cpp-httplib does not say).
std::string bind_failure(const std::string& host, int port) {
  int error = 0;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) {
    return "metrics host '" + host + "' cannot be resolved";
  }
  const int sock = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (sock < 0) {
    error = errno;
  } else {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(sock, found->ai_addr, found->ai_addrlen) != 0) error = errno;
    ::close(sock);
  }
  freeaddrinfo(found);
  if (error == EADDRINUSE) return "metrics port " + std::to_string(port) + " is already in use";
  return "cannot listen on " + host + ":" + std::to_string(port) + " for metrics" +
         (error != 0 ? std::string(": ") + std::strerror(error) : std::string());
}

std::optional<std::filesystem::file_time_type> mtime_of(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return std::nullopt;
  return t;
}

}  // namespace

// An output the producer refused at once for a reason other than its size:
// ends the service (exactly-once: after aborting the transaction, without
// rewinding, since serving the batch again would meet the same refusal).
class OutputRefused : public kafka::KafkaException {
 public:
  using kafka::KafkaException::KafkaException;
};

struct Server::Impl {
  // At-least-once delivery pipeline: micro-batches whose outputs were
  // produced and whose acknowledgements are awaited, oldest first. A batch's
  // offsets are committed once it and every batch before it are fully
  // acknowledged.
  struct InFlightBatch;
  // One produced output; its address is the produce opaque, so its delivery
  // report finds its batch and its input timestamp (for the latency metric).
  struct PendingOutput {
    InFlightBatch* batch = nullptr;
    int64_t input_timestamp_ms = -1;
    const std::string* input_topic = nullptr;  // one of options.input_topics (for on_acknowledged)
    int32_t input_partition = -1;
    int64_t input_offset = -1;
  };
  struct InFlightBatch {
    std::vector<kafka::TopicPartitionOffset> offsets;  // next offsets to commit, per partition
    size_t records = 0;                                // input records
    size_t dead_letters = 0;                           // sent to the dead-letter producer
    std::vector<PendingOutput> outputs;                // reserved up front: addresses are stable
    size_t unacknowledged = 0;                         // outputs without a delivery report (pipe_mu)
    std::string failure;                               // first delivery error, "" = none (pipe_mu)
    int failure_code = 0;                              // its KafkaError code (pipe_mu)
  };

  ServerOptions options;
  ProcessorFactory factory;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> reload_requested{false};
  ServeMetrics metrics;
  std::atomic<int> bound_port{0};

  mutable std::mutex mu;  // guards the fields below
  ServerStats stats;
  std::map<kafka::TopicPartition, int64_t> positions;  // next offset to serve, per assigned partition
  std::condition_variable cv;                          // wakes the metrics thread on stop

  // The pipeline: pushed and popped by the run() thread, acknowledged by the
  // producer's poll thread (delivery reports). Declared before `producer` so
  // that it outlives the producer's last delivery reports.
  std::mutex pipe_mu;                                   // guards the batches' ack state and `pipeline`
  std::condition_variable pipe_cv;                      // a batch was fully acknowledged
  std::deque<std::unique_ptr<InFlightBatch>> pipeline;  // oldest first
  size_t pipeline_records = 0;                          // input records of the batches in `pipeline`
  std::atomic<bool> delivery_failed{false};             // some output was not delivered
  std::exception_ptr rebalance_error;                   // raised in on_rebalance, rethrown by run()

  // Owned by the run() thread.
  std::unique_ptr<Processor> processor;
  std::unique_ptr<data::Decoder> decoder;
  std::unique_ptr<kafka::Consumer> consumer;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<data::DeadLetterProducer> dead_letters;
  std::map<std::string, bool> same_partitions;  // input topic -> output has as many partitions
  std::vector<kafka::Message> building;         // the micro-batch being polled
  std::map<kafka::TopicPartition, int64_t> committed;  // next-offsets acknowledged (committed or in `uncommitted`)
  std::map<kafka::TopicPartition, int64_t> uncommitted;  // acknowledged, not yet committed (at-least-once)
  Clock::time_point next_async_commit;
  std::optional<Clock::time_point> recommit_at;  // see kRecommitDelay
  std::optional<std::filesystem::file_time_type> watched_mtime;
  Clock::time_point next_watch_check;
  std::string transactional_id;
  bool mock_cluster = false;  // the brokers are librdkafka's mock cluster (EmbeddedCluster)
  bool transactional_offsets_checked = false;

  void install(std::unique_ptr<Processor> p) {
    const std::string spec = p->decoder_spec();
    decoder = spec.empty() ? nullptr : data::make_decoder(spec);
    processor = std::move(p);
    metrics.set_model_version(processor->version());
    std::lock_guard lock(mu);
    stats.model_version = processor->version();
  }

  void maybe_reload() {
    bool due = reload_requested.exchange(false);
    if (!options.watch_path.empty() && Clock::now() >= next_watch_check) {
      next_watch_check = Clock::now() + std::chrono::milliseconds(options.watch_interval_ms);
      auto t = mtime_of(options.watch_path);
      if (t && t != watched_mtime) {
        watched_mtime = t;
        due = true;
      }
    }
    if (!due) return;
    const std::string old_version = processor->version();
    try {
      std::unique_ptr<Processor> next = factory();
      if (std::string why = incompatibility(*next); !why.empty()) {
        throw ConfigError("the new model (version " + next->version() + ") does not fit what is served: " + why);
      }
      install(std::move(next));
      metrics.record_reload(true);
      std::lock_guard lock(mu);
      ++stats.reloads;
      log_info("serve: reloaded; model version {} -> {}", old_version, stats.model_version);
    } catch (const std::exception& e) {
      metrics.record_reload(false);
      {
        std::lock_guard lock(mu);
        ++stats.reload_failures;
      }
      log_error("serve: reload failed, still serving model version {}: {}", old_version, e.what());
    }
  }

  // "" when `next` can take over from the processor now serving: its
  // decoder reads the same input format into as many features, and its
  // outputs have the same schema. Otherwise what differs, naming both shapes.
  std::string incompatibility(const Processor& next) const {
    auto input_shape = [](const std::string& spec) -> std::string {
      if (spec.empty()) return "raw payloads";
      return data::DecoderSpec::parse(spec).format() + " with " +
             std::to_string(data::make_decoder(spec)->num_features()) + " feature(s) ('" + spec + "')";
    };
    auto input_key = [](const std::string& spec) -> std::string {
      if (spec.empty()) return "";
      return data::DecoderSpec::parse(spec).format() + "/" + std::to_string(data::make_decoder(spec)->num_features());
    };
    const std::string old_spec = processor->decoder_spec();
    const std::string new_spec = next.decoder_spec();
    std::string why;
    if (input_key(old_spec) != input_key(new_spec)) {
      why = "inputs: serving " + input_shape(old_spec) + ", the new model reads " + input_shape(new_spec);
    }
    const std::string old_schema = processor->output_schema();
    const std::string new_schema = next.output_schema();
    if (old_schema != new_schema) {
      why += (why.empty() ? "" : "; ") + std::string("outputs: serving '") + old_schema +
             "', the new model writes '" + new_schema + "'";
    }
    return why;
  }

  void on_rebalance(kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& parts) {
    if (event == kafka::RebalanceEvent::kAssigned) {
      log_info("serve: assigned {} partition(s)", parts.size());
      std::lock_guard lock(mu);
      for (const auto& p : parts) positions[{p.topic, p.partition}] = -1;
      stats.assigned_partitions = positions.size();
      stats.running = true;  // the group answered: serving (an empty assignment is a standby)
      return;
    }
    const bool lost = event == kafka::RebalanceEvent::kLost;
    log_info("serve: {} {} partition(s)", lost ? "lost" : "revoked", parts.size());
    // Outputs in flight may belong to the revoked partitions: wait for them
    // and commit what was acknowledged before the group moves on (a lost
    // assignment can no longer commit). Errors cannot propagate through
    // librdkafka's callback: run() rethrows them after the poll.
    if (!rebalance_error) {
      try {
        drain(/*commit=*/!lost);
      } catch (...) {
        rebalance_error = std::current_exception();
      }
    }
    std::vector<kafka::TopicPartitionOffset> final_commit;
    {
      std::lock_guard lock(mu);
      for (const auto& p : parts) {
        kafka::TopicPartition tp{p.topic, p.partition};
        positions.erase(tp);
        stats.assigned_partitions = positions.size();
        uncommitted.erase(tp);  // committed by drain() above, or (lost) no longer ours
        auto it = committed.find(tp);
        if (it != committed.end()) {
          final_commit.push_back({p.topic, p.partition, it->second});
          committed.erase(it);  // no longer ours to commit
        }
      }
    }
    // Records of the revoked partitions polled for the micro-batch being
    // built are not ours to serve any more (their offsets were not
    // committed: the new owner serves them). Records polled after this
    // callback belong to the new assignment.
    std::erase_if(building, [&](const kafka::Message& m) {
      for (const auto& p : parts) {
        if (p.partition == m.partition() && p.topic == m.topic()) return true;
      }
      return false;
    });
    metrics.clear_lag();
    // At-least-once commits asynchronously: make the last ones stick before
    // the new owner reads the group's offsets (fewer duplicates).
    if (!options.exactly_once && !lost && !final_commit.empty()) {
      if (auto err = consumer->commit(final_commit, /*async=*/false)) commit_failed("commit on revoke", err);
    }
  }

  // A commit that failed: logged and counted (streamml_serve_commit_failures_total).
  void commit_failed(const char* what, const kafka::KafkaError& err) {
    metrics.record_commit_failure();
    log_warn("serve: {}: {}", what, err.message());
  }

  // Appends the records of `polled` to the micro-batch being built (events
  // are logged; fatal errors throw).
  void take(std::vector<kafka::Message>& polled) {
    for (auto& m : polled) {
      if (kafka::KafkaError err = m.error()) {
        if (m.is_eof()) continue;
        if (err.is_fatal()) throw kafka::KafkaException(err.code(), "consumer: " + err.message());
        log_warn("serve: consumer: {}", err.message());
        continue;
      }
      building.push_back(std::move(m));
    }
  }

  // Polls one micro-batch into `building`: waits up to 100 ms for a first
  // record, takes every record already fetched, then closes at max_batch
  // records or max_wait_us after the first.
  void poll_micro_batch() {
    building.clear();
    // poll_batch() waits for a full batch or its timeout: wait for the first
    // record with poll(), which returns as soon as one is there.
    // With outputs in flight, come back soon to commit them once acknowledged.
    bool idle;
    {
      std::lock_guard lock(pipe_mu);
      idle = pipeline.empty();
    }
    std::vector<kafka::Message> polled;
    if (kafka::Message first = consumer->poll(kafka::milliseconds(idle ? 100 : 10)); !first.empty()) {
      polled.push_back(std::move(first));
    }
    take(polled);
    if (building.empty()) return;
    const auto deadline = Clock::now() + std::chrono::microseconds(options.max_wait_us);
    // The records already fetched always join (even with max_wait_us = 0).
    while (building.size() < options.max_batch && !stop_requested.load()) {
      const auto remaining =
          std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
      polled = consumer->poll_batch(options.max_batch - building.size(),
                                    kafka::milliseconds(std::max<int64_t>(remaining, 0) / 1000));
      const bool got_none = polled.empty();
      take(polled);
      if (building.empty() || remaining <= 0) break;  // everything was revoked, or time is up
      if (got_none && remaining < 1000) {
        std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(remaining, 100)));
      }
    }
  }

  // Dead-letters or logs a bad record; returns whether it was dead-lettered.
  bool reject(const data::RecordMeta& meta, std::string_view payload, const std::string& reason) {
    if (dead_letters) {
      dead_letters->send(meta, payload, reason);
      metrics.record_rejected(true);
      std::lock_guard lock(mu);
      ++stats.rejected;
      ++stats.dead_lettered;
      return true;
    }
    log_warn("serve: bad record {}: {}", meta.location(), reason);
    metrics.record_rejected(false);
    std::lock_guard lock(mu);
    ++stats.rejected;
    return false;
  }

  // Decodes, processes and produces one micro-batch into a new batch at the
  // end of the pipeline (outputs asynchronously: their delivery reports
  // acknowledge them, see on_delivery()); returns that batch.
  InFlightBatch& serve_batch(std::vector<kafka::Message>& msgs) {
    const size_t n = msgs.size();
    // Decode; the metadata of decoded records moves into the batch.
    data::Batch batch;
    const size_t width = decoder ? decoder->num_features() : 0;
    const size_t num_labels = decoder ? decoder->num_labels() : 0;
    std::vector<float> labels(num_labels);
    batch.num_features = width;
    batch.features.resize(n * width);
    batch.meta.reserve(n);
    batch.payloads.reserve(n);
    std::vector<int64_t> row_of(n, -1);
    std::vector<std::string> reasons(n);
    for (size_t i = 0; i < n; ++i) {
      if (decoder) {
        auto error = decoder->decode(msgs[i].value(), batch.features.data() + batch.size * width,
                                     num_labels ? labels.data() : nullptr);
        if (error) {
          reasons[i] = "undecodable record: " + *error;
          continue;
        }
      }
      row_of[i] = static_cast<int64_t>(batch.size++);
      batch.meta.push_back(data::meta_of(msgs[i]));
      batch.payloads.emplace_back(msgs[i].value());
    }
    batch.features.resize(batch.size * width);
    std::vector<ProcessResult> results;
    if (batch.size > 0) processor->process(batch, results);
    if (results.size() != batch.size) {
      throw std::logic_error("processor returned " + std::to_string(results.size()) + " results for " +
                             std::to_string(batch.size) + " records");
    }
    // The batch joins the pipeline before its first output is produced: the
    // pipeline owns what the delivery reports point to.
    auto owned = std::make_unique<InFlightBatch>();
    InFlightBatch& flight = *owned;
    flight.records = n;
    size_t num_outputs = 0;
    for (const ProcessResult& r : results) num_outputs += r.output ? 1 : 0;
    flight.outputs.reserve(num_outputs);
    // Every output is counted before the first is produced (reports can
    // come back while the loop still produces); one refused at once gets no
    // report and is taken off again (refused()).
    flight.unacknowledged = num_outputs;
    metrics.add_in_flight(static_cast<int64_t>(num_outputs));
    {
      std::lock_guard lock(pipe_mu);
      pipeline_records += n;
      pipeline.push_back(std::move(owned));
    }
    // Produce, in input order.
    const std::string version = processor->version();
    std::map<kafka::TopicPartition, int64_t> next;
    int64_t* next_of_last = nullptr;  // records of one partition come in runs: look up once per run
    std::string_view last_topic;  // views into msgs, which outlive the loop
    const std::string* last_topic_name = nullptr;  // in options.input_topics
    int32_t last_partition = -1;
    kafka::ProduceRecord record;
    record.topic = options.output_topic;
    for (size_t i = 0; i < n; ++i) {
      const kafka::Message& m = msgs[i];
      if (next_of_last == nullptr || m.partition() != last_partition || m.topic_view() != last_topic) {
        next_of_last = &next[{m.topic(), m.partition()}];
        last_topic_name = nullptr;
        for (const std::string& t : options.input_topics) {
          if (t == m.topic_view()) last_topic_name = &t;
        }
        last_topic = m.topic_view();
        last_partition = m.partition();
      }
      *next_of_last = m.offset() + 1;
      const ProcessResult* result = row_of[i] >= 0 ? &results[static_cast<size_t>(row_of[i])] : nullptr;
      if (result == nullptr || !result->output) {
        std::string reason = result == nullptr          ? reasons[i]
                             : result->error.empty()    ? std::string("rejected by the processor")
                                                        : result->error;
        const data::RecordMeta meta = result == nullptr ? data::meta_of(m) : batch.meta[static_cast<size_t>(row_of[i])];
        if (reject(meta, m.value(), reason)) ++flight.dead_letters;
        continue;
      }
      const data::RecordMeta& meta = batch.meta[static_cast<size_t>(row_of[i])];
      const OutputRecord& out = *result->output;
      auto same = same_partitions.find(meta.topic);
      record.partition = same != same_partitions.end() && same->second ? meta.partition : kafka::kPartitionAny;
      record.key = out.key ? std::optional<std::string_view>(*out.key) : std::nullopt;
      record.value = out.value;
      record.headers.clear();
      record.headers.reserve(out.headers.size() + 5);
      record.headers.insert(record.headers.end(), out.headers.begin(), out.headers.end());
      record.headers.push_back({data::kHeaderSourceTopic, meta.topic});
      record.headers.push_back({data::kHeaderSourcePartition, std::to_string(meta.partition)});
      record.headers.push_back({data::kHeaderSourceOffset, std::to_string(meta.offset)});
      record.headers.push_back({kHeaderModelVersion, version});
      if (meta.timestamp_ms >= 0) {
        record.headers.push_back({data::kHeaderSourceTimestamp, std::to_string(meta.timestamp_ms)});
      }
      flight.outputs.push_back({&flight, meta.timestamp_ms, last_topic_name, meta.partition, meta.offset});
      record.opaque = reinterpret_cast<uint64_t>(&flight.outputs.back());
      if (kafka::KafkaError err = producer->produce(record)) {
        flight.outputs.pop_back();
        if (refused(flight, meta, out, err)) ++flight.dead_letters;
      }
    }
    flight.offsets = offsets_of(next);
    return flight;
  }

  // An output the producer refused at once: it gets no delivery report, so
  // it leaves the batch's count. One too large to produce is a bad record
  // (dead-lettered, truncated if need be, or logged; its offset is
  // committed); returns whether it was dead-lettered. Any other refusal
  // (e.g. authorization, a fatal producer error; also after a failed
  // delivery, which librdkafka repeats for the topic's next records) throws
  // OutputRefused naming the record: the batch fails, and nothing at or
  // after it is committed.
  bool refused(InFlightBatch& flight, const data::RecordMeta& meta, const OutputRecord& out,
               const kafka::KafkaError& err) {
    metrics.add_in_flight(-1);
    std::string reason = "output of " + meta.location() + " refused by the producer for '" +
                         options.output_topic + "': " + err.message();
    {
      std::lock_guard lock(pipe_mu);
      if (--flight.unacknowledged == 0) pipe_cv.notify_all();
      if (!err.is_message_too_large() && flight.failure.empty()) {
        flight.failure = reason;
        flight.failure_code = err.code();
      }
    }
    if (!err.is_message_too_large()) throw OutputRefused(err.code(), reason);
    data::RecordMeta output_meta = meta;  // the refused record: the output, with its key
    output_meta.has_key = out.key.has_value();
    output_meta.key = out.key.value_or("");
    return reject(output_meta, out.value, reason);
  }

  // A delivery report of an output (on the producer's poll thread, or on the
  // thread in flush()).
  void on_delivery(const kafka::DeliveryReport& r) {
    auto* out = reinterpret_cast<PendingOutput*>(r.opaque);
    if (out != nullptr) metrics.add_in_flight(-1);
    if (r.error.ok()) {
      if (out != nullptr && out->input_timestamp_ms >= 0) {
        metrics.record_latency_us(wall_us() - out->input_timestamp_ms * 1000);
      }
      if (out != nullptr && options.on_acknowledged) {
        options.on_acknowledged({out->input_topic ? *out->input_topic : std::string(), out->input_partition,
                                 out->input_offset},
                                out->input_timestamp_ms);
      }
      std::lock_guard lock(mu);
      ++stats.records_out;
    } else if (!delivery_failed.exchange(true)) {  // the first failure ends the service: log it once
      log_error("serve: output not delivered to {}: {}", r.topic, r.error.message());
    }
    if (out == nullptr) return;
    std::lock_guard lock(pipe_mu);
    InFlightBatch& b = *out->batch;
    if (!r.error.ok() && b.failure.empty()) {
      b.failure = r.error.message();
      b.failure_code = r.error.code();
    }
    if (--b.unacknowledged == 0) pipe_cv.notify_all();
  }

  // Commits the offsets of the fully acknowledged batches at the head of the
  // pipeline (synchronously when `sync`). Throws kafka::KafkaException when the
  // next batch had an output that was not delivered (after committing the
  // batches before it: never an offset past an undelivered output).
  void retire(bool sync) {
    std::vector<std::unique_ptr<InFlightBatch>> done;
    std::string failure;
    int failure_code = 0;
    {
      std::lock_guard lock(pipe_mu);
      while (!pipeline.empty() && pipeline.front()->unacknowledged == 0) {
        if (!pipeline.front()->failure.empty()) {
          failure = pipeline.front()->failure;
          failure_code = pipeline.front()->failure_code;
          break;
        }
        pipeline_records -= pipeline.front()->records;
        done.push_back(std::move(pipeline.front()));
        pipeline.pop_front();
      }
    }
    if (!done.empty()) {
      size_t dead = 0;
      for (const auto& b : done) dead += b->dead_letters;
      if (dead > 0) dead_letters->flush();  // throws when a dead letter was not delivered
      std::map<kafka::TopicPartition, int64_t> next;
      size_t records = 0;
      for (const auto& b : done) {
        records += b->records;
        metrics.record_batch(b->records);
        for (const auto& o : b->offsets) next[{o.topic, o.partition}] = o.offset;
      }
      complete(records, done.size(), offsets_of(next));
      for (const auto& [tp, off] : next) uncommitted[tp] = off;
    }
    const bool now = sync || !failure.empty();
    if (!uncommitted.empty() && (now || Clock::now() >= next_async_commit)) {
      const std::vector<kafka::TopicPartitionOffset> offsets = offsets_of(uncommitted);
      uncommitted.clear();
      next_async_commit = Clock::now() + kAsyncCommitInterval;
      recommit_at = Clock::now() + kRecommitDelay;
      if (auto err = consumer->commit(offsets, /*async=*/!now)) commit_failed("commit", err);
    } else if (uncommitted.empty() && recommit_at && Clock::now() >= *recommit_at) {
      recommit_at.reset();
      std::vector<kafka::TopicPartitionOffset> offsets;
      {
        std::lock_guard lock(mu);
        offsets = offsets_of(committed);
      }
      if (!offsets.empty()) {
        if (auto err = consumer->commit(offsets, /*async=*/true)) commit_failed("commit", err);
      }
    }
    if (!failure.empty()) {
      throw kafka::KafkaException(failure_code,
                           "outputs to '" + options.output_topic + "' were not delivered (" + failure +
                               "); their offsets and later ones are not committed");
    }
  }

  // Back-pressure: retires the acknowledged batches, and waits until the
  // next micro-batch fits in max_in_flight records (or a delivery failed).
  void wait_for_room() {
    while (true) {
      retire(/*sync=*/false);
      std::unique_lock lock(pipe_mu);
      if (pipeline.empty() || pipeline_records + options.max_batch <= options.max_in_flight ||
          delivery_failed.load()) {
        return;
      }
      pipe_cv.wait_for(lock, std::chrono::milliseconds(100),
                       [&] { return pipeline.front()->unacknowledged == 0 || delivery_failed.load(); });
    }
  }

  // Waits for every output in flight and commits the acknowledged batches
  // (synchronously; not at all unless `commit`). Throws kafka::KafkaException when
  // an output was not delivered or not acknowledged in time.
  void drain(bool commit) {
    bool empty;
    {
      std::lock_guard lock(pipe_mu);
      empty = pipeline.empty();
    }
    if (empty) {
      if (commit) retire(/*sync=*/true);  // what was acknowledged but not yet committed
      return;
    }
    producer->flush();
    {
      // flush() returns once the reports were served; the poll thread may
      // still be finishing the last callback.
      std::unique_lock lock(pipe_mu);
      pipe_cv.wait_for(lock, std::chrono::seconds(5), [&] {
        for (const auto& b : pipeline) {
          if (b->unacknowledged > 0) return false;
        }
        return true;
      });
    }
    if (commit) {
      retire(/*sync=*/true);
    } else {
      std::lock_guard lock(pipe_mu);
      while (!pipeline.empty() && pipeline.front()->unacknowledged == 0 && pipeline.front()->failure.empty()) {
        pipeline_records -= pipeline.front()->records;
        pipeline.pop_front();
      }
    }
    std::lock_guard lock(pipe_mu);
    if (!pipeline.empty()) {
      const bool failed = !pipeline.front()->failure.empty();
      throw kafka::KafkaException(failed ? pipeline.front()->failure_code : kafka::kErrMessageTimedOut,
                           "outputs to '" + options.output_topic + "' were not " +
                               (failed ? "delivered (" + pipeline.front()->failure + ")" : "acknowledged in time") +
                               "; their offsets are not committed");
    }
  }

  void rewind(const std::vector<kafka::Message>& msgs) {
    std::map<kafka::TopicPartition, int64_t> first;
    for (const auto& m : msgs) first.try_emplace({m.topic(), m.partition()}, m.offset());
    for (const auto& [tp, off] : first) {
      if (auto err = consumer->seek({tp.topic, tp.partition, off})) {
        throw kafka::KafkaException(err.code(), "rewinding " + tp.topic + ":" + std::to_string(tp.partition) +
                                             " after an aborted transaction: " + err.message());
      }
    }
  }

  void complete(size_t records, size_t batches, const std::vector<kafka::TopicPartitionOffset>& offsets) {
    std::lock_guard lock(mu);
    stats.records_in += records;
    stats.batches += batches;
    for (const auto& o : offsets) {
      committed[{o.topic, o.partition}] = o.offset;
      auto it = positions.find({o.topic, o.partition});
      if (it != positions.end()) it->second = o.offset;
    }
  }

  // At-least-once: produce the batch's outputs and go on; retire() commits
  // it once it and the batches before it are acknowledged.
  void process_at_least_once(std::vector<kafka::Message>& msgs) {
    serve_batch(msgs);
    retire(/*sync=*/false);
  }

  // Exactly-once: one transaction per micro-batch; the pipeline holds at
  // most this batch, and is empty again when this returns.
  void process_exactly_once(std::vector<kafka::Message>& msgs) {
    const int64_t failed_before = producer->failed_count();
    producer->begin_transaction();
    try {
      const InFlightBatch& flight = serve_batch(msgs);
      const std::vector<kafka::TopicPartitionOffset> offsets = flight.offsets;
      if (dead_letters) dead_letters->flush();
      producer->send_offsets_to_transaction(offsets, *consumer, kTransactionTimeout);
      producer->commit_transaction(kTransactionTimeout);  // flushes: every output was acknowledged
      if (producer->failed_count() > failed_before) {
        throw kafka::KafkaException(kafka::kErrFail, "outputs failed inside a committed transaction");
      }
      forget_pipeline();
      if (!transactional_offsets_checked) {
        transactional_offsets_checked = true;
        check_transactional_offsets(offsets);
      }
      if (mock_cluster) {
        // librdkafka's mock cluster acknowledges TxnOffsetCommit without
        // storing the offsets: store them with a plain commit there (the
        // transaction already committed the outputs).
        if (auto err = consumer->commit(offsets, /*async=*/true)) commit_failed("commit", err);
      }
      metrics.record_batch(msgs.size());
      complete(msgs.size(), 1, offsets);
    } catch (const kafka::KafkaException& e) {
      if (const kafka::KafkaError fatal = producer->fatal_error()) {
        log_error("serve: transactional producer '{}' failed (fenced by a newer instance?): {}",
                  transactional_id, fatal.message());
        throw;
      }
      if (dynamic_cast<const OutputRefused*>(&e) != nullptr) {
        // Serving the batch again would meet the same refusal: stop.
        log_error("serve: aborting the transaction of a {}-record batch and stopping: {}", msgs.size(), e.what());
        producer->abort_transaction(kTransactionTimeout);
        producer->flush();
        forget_pipeline();
        throw;
      }
      if (const auto* txn = dynamic_cast<const kafka::TransactionError*>(&e); txn != nullptr && txn->retriable()) {
        // Still retriable after kTransactionTimeout: the call is in
        // progress, so the transaction cannot be aborted either.
        throw kafka::KafkaException(e.code(), std::string("the transaction of a ") + std::to_string(msgs.size()) +
                                           "-record batch did not finish within " +
                                           std::to_string(kTransactionTimeout.count()) + " s: " + e.what());
      }
      log_warn("serve: aborting the transaction of a {}-record batch: {}", msgs.size(), e.what());
      producer->abort_transaction(kTransactionTimeout);
      producer->flush();  // serves the reports of the purged outputs
      forget_pipeline();
      rewind(msgs);
      std::lock_guard lock(mu);
      ++stats.aborted_transactions;
    }
  }

  // Drops the batches of a finished transaction (committed or aborted: every
  // delivery report was served).
  void forget_pipeline() {
    std::unique_lock lock(pipe_mu);
    pipe_cv.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const auto& b : pipeline) {
        if (b->unacknowledged > 0) return false;
      }
      return true;
    });
    // A batch still waiting for a report stays: the report points into it.
    std::erase_if(pipeline, [&](const auto& b) {
      if (b->unacknowledged > 0) return false;
      pipeline_records -= b->records;
      return true;
    });
  }

  // Whether the cluster stored the offsets of the first transaction; when it
  // did not (librdkafka's mock cluster), commit them with plain commits too.
  void check_transactional_offsets(const std::vector<kafka::TopicPartitionOffset>& sent) {
    if (mock_cluster) return;
    std::vector<kafka::TopicPartition> parts;
    for (const auto& o : sent) parts.push_back({o.topic, o.partition});
    try {
      for (const auto& c : consumer->committed(parts)) {
        for (const auto& o : sent) {
          if (o.topic == c.topic && o.partition == c.partition && c.offset < o.offset) mock_cluster = true;
        }
      }
    } catch (const std::exception& e) {
      log_warn("serve: reading the committed offsets: {}", e.what());
    }
    if (mock_cluster) {
      log_warn("serve: the cluster did not store the offsets of a committed transaction (librdkafka mock "
               "cluster?): committing them with plain commits as well");
    }
  }

  // The consumer's count of input records lost to retention, into the
  // stats and the metrics.
  void update_lost_records() {
    const auto lost = static_cast<uint64_t>(consumer->lost_records());
    metrics.set_lost_records(lost);
    std::lock_guard lock(mu);
    stats.lost_records = lost;
  }

  void update_lag() {
    update_lost_records();
    std::map<kafka::TopicPartition, int64_t> pos;
    {
      std::lock_guard lock(mu);
      pos = positions;
    }
    for (const auto& [tp, next] : pos) {
      const std::optional<kafka::Watermarks> marks = consumer->cached_watermarks(tp.topic, tp.partition);
      if (marks && next >= 0) metrics.set_lag(tp, std::max<int64_t>(0, marks->high - next));
    }
  }

  // Updates the lag and prints the stderr line every metrics_interval_ms
  // when something changed, and at most once a minute while idle.
  void metrics_loop() {
    metrics.start_interval();
    std::unique_lock lock(mu);
    while (!stop_requested.load()) {
      cv.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(options.metrics_interval_ms, 100)));
      if (stop_requested.load()) break;
      lock.unlock();
      update_lag();
      if (options.metrics_interval_ms > 0) {
        if (auto line = metrics.interval_line_if_changed()) log_info("{}", *line);
      }
      lock.lock();
    }
  }
};

kafka::Config consumer_config(const ServerOptions& o) {
  // Manual commits only; read committed outputs of upstream transactions.
  // Low-latency fetch defaults for the embedded cluster are applied by
  // kafka::Consumer.
  kafka::Config c = o.kafka;
  c.set("group.id", o.group);
  c.set("enable.auto.commit", "false");
  c.set_default("auto.offset.reset", "earliest");
  c.set_default("isolation.level", "read_committed");
  if (o.busy_fetch) c.set("fetch.wait.max.ms", "0");
  return c;
}

Server::Server(ServerOptions options, ProcessorFactory factory) : impl_(std::make_unique<Impl>()) {
  if (options.input_topics.empty()) throw ConfigError("--input: at least one input topic is required");
  for (const auto& t : options.input_topics) {
    if (t.empty()) throw ConfigError("--input: empty topic name");
    if (t == options.output_topic) throw ConfigError("--output: must differ from the input topic '" + t + "'");
  }
  if (options.output_topic.empty()) throw ConfigError("--output: an output topic is required");
  if (options.group.empty()) throw ConfigError("-G/--group: a consumer group is required");
  if (options.max_batch == 0) throw ConfigError("--max-batch: must be at least 1");
  if (options.max_wait_us < 0) throw ConfigError("--max-wait-us: must be >= 0");
  if (options.max_in_flight == 0) throw ConfigError("--max-in-flight: must be at least 1");
  if (options.busy_fetch && options.kafka.contains("fetch.wait.max.ms")) {
    throw ConfigError("--busy-fetch sets the consumer's fetch.wait.max.ms to 0: drop -X fetch.wait.max.ms=" +
                      options.kafka.get("fetch.wait.max.ms").value_or("") + ", or --busy-fetch");
  }
  if (options.metrics_port < 0 || options.metrics_port > 65535) {
    throw ConfigError("--metrics-port: must be in 1..65535 (0: off), got " + std::to_string(options.metrics_port));
  }
  if (!factory) throw ConfigError("serve: no processor factory");
  if (options.instance_id.empty()) options.instance_id = host_name();
  impl_->options = std::move(options);
  impl_->factory = std::move(factory);
}

Server::~Server() = default;

void Server::stop() {
  impl_->stop_requested = true;
  impl_->cv.notify_all();
}

void Server::reload() { impl_->reload_requested = true; }

ServerStats Server::stats() const {
  std::lock_guard lock(impl_->mu);
  ServerStats s = impl_->stats;
  return s;
}

std::string Server::metrics_text() const { return impl_->metrics.prometheus_text(); }

int Server::metrics_port() const { return impl_->bound_port.load(); }

void Server::run() {
  Impl& s = *impl_;
  const ServerOptions& o = s.options;
  if (!o.watch_path.empty()) s.watched_mtime = mtime_of(o.watch_path);
  s.install(s.factory());  // a model that cannot be loaded ends here

  // Producer: low linger for latency; idempotent (kafka::Producer default).
  kafka::Config producer_config = o.kafka;
  producer_config.set_default("linger.ms", "1");
  s.mock_cluster = kafka::EmbeddedCluster::is_embedded(o.kafka.get("bootstrap.servers").value_or(""));
  if (o.exactly_once) {
    s.transactional_id = "streamml-serve-" + o.group + "-" + o.instance_id;
    producer_config.set("transactional.id", s.transactional_id);
  }
  s.producer =
      std::make_unique<kafka::Producer>(producer_config, [&s](const kafka::DeliveryReport& r) { s.on_delivery(r); });
  // Delivery reports are served as they arrive (acknowledging batches of the
  // pipeline and timing outputs), while this thread polls the consumer.
  s.producer->start_poll_thread();
  if (!o.dead_letter_topic.empty()) {
    s.dead_letters = std::make_unique<data::DeadLetterProducer>(producer_config.contains("transactional.id")
                                                                    ? o.kafka
                                                                    : producer_config,
                                                                o.dead_letter_topic);
  }
  s.consumer = std::make_unique<kafka::Consumer>(consumer_config(o));
  s.consumer->set_data_loss_policy(o.on_data_loss);
  const auto output_partitions = s.consumer->partitions_of(o.output_topic).size();
  for (const auto& t : o.input_topics) {
    s.same_partitions[t] = s.consumer->partitions_of(t).size() == output_partitions;
  }
  if (o.exactly_once) s.producer->init_transactions();

  std::unique_ptr<httplib::Server> http;
  std::thread http_thread;
  std::thread metrics_thread([&s] { s.metrics_loop(); });
  auto cleanup = [&] {
    s.stop_requested = true;
    s.cv.notify_all();
    if (metrics_thread.joinable()) metrics_thread.join();
    if (http) http->stop();
    if (http_thread.joinable()) http_thread.join();
    std::lock_guard lock(s.mu);
    s.stats.running = false;
  };
  try {
    if (o.metrics_port > 0) {
      http = std::make_unique<httplib::Server>();
      configure_metrics_http(*http);
      http->Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
        res.set_content(s.metrics.prometheus_text(), "text/plain; version=0.0.4");
      });
      http->Get("/healthz", [&s](const httplib::Request&, httplib::Response& res) {
        bool running;
        {
          std::lock_guard lock(s.mu);
          running = s.stats.running;
        }
        res.status = running ? 200 : 503;
        res.set_content(running ? "ok\n" : "starting\n", "text/plain");
      });
      if (!http->bind_to_port(o.metrics_host.c_str(), o.metrics_port)) {
        throw Error(bind_failure(o.metrics_host, o.metrics_port));
      }
      s.bound_port = o.metrics_port;
      http_thread = std::thread([&http] { http->listen_after_bind(); });
    }
    // stats.running (and /healthz) turn true at the first assignment.
    s.consumer->subscribe(o.input_topics, [&s](kafka::RebalanceEvent e, const auto& parts) {
      s.on_rebalance(e, parts);
    });
    std::string inputs;
    for (const auto& t : o.input_topics) inputs += (inputs.empty() ? "" : ",") + t;
    log_info("serve: {} -> {} as group '{}' ({}; max batch {}, max wait {} us{}; model version {})", inputs,
             o.output_topic, o.group,
             o.exactly_once ? "exactly-once, transactional.id " + s.transactional_id : "at-least-once",
             o.max_batch, o.max_wait_us, o.busy_fetch ? ", busy fetch" : "", s.processor->version());
    while (!s.stop_requested.load()) {
      s.maybe_reload();
      if (!o.exactly_once) {
        if (s.delivery_failed.load()) s.drain(/*commit=*/true);  // commits up to the failure, throws
        s.wait_for_room();
      }
      s.poll_micro_batch();
      if (s.rebalance_error) std::rethrow_exception(s.rebalance_error);
      if (s.building.empty()) continue;
      std::vector<kafka::Message> msgs = std::move(s.building);
      s.building.clear();
      if (o.exactly_once) {
        s.process_exactly_once(msgs);
      } else {
        s.process_at_least_once(msgs);
      }
    }
    // Graceful end: wait for the outputs in flight, commit what they answer
    // and make the earlier (asynchronous) commits stick (also exactly-once on
    // the mock cluster, whose offsets are stored by plain asynchronous commits
    // next to the transactions).
    if (!o.exactly_once) s.drain(/*commit=*/true);
    if ((!o.exactly_once || s.mock_cluster) && !s.committed.empty()) {
      if (auto err = s.consumer->commit(offsets_of(s.committed), /*async=*/false)) {
        s.commit_failed("final commit", err);
      }
    }
    s.consumer->close();
    if (s.rebalance_error) std::rethrow_exception(s.rebalance_error);
    s.producer->close();
    s.update_lost_records();
    const ServerStats end = stats();
    if (end.lost_records > 0) {
      log_error("serve: stopped after {} record(s); {} input record(s) were removed by retention before they "
                "were served",
                end.records_in, end.lost_records);
    } else {
      log_info("serve: stopped after {} record(s)", end.records_in);
    }
  } catch (...) {
    cleanup();
    // Leave the group while `consumer` is still set: the revocation callback
    // commits through it (what was acknowledged before the failure).
    if (s.consumer) s.consumer->close();
    s.consumer.reset();
    throw;
  }
  cleanup();
  s.consumer.reset();
}

}  // namespace streamml::serve
