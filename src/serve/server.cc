// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The serving loop, which wires the parts: micro_batcher.h polls,
// output_producer.h decodes, processes and produces into delivery_pipeline.h,
// whose acknowledged batches commit_tracker.h commits (at-least-once) or
// exactly_once_step.h commits in transactions; hot_reload.h swaps models;
// metrics_reporter.h and metrics_http.h report. Busy fetch and its cost on
// the embedded cluster: docs/serving.md, "Busy fetch".
#include "streamml/serve/server.h"

#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "serve/at_least_once_step.h"
#include "serve/commit_tracker.h"
#include "serve/delivery_pipeline.h"
#include "serve/exactly_once_step.h"
#include "serve/hot_reload.h"
#include "serve/metrics_http.h"
#include "serve/metrics_reporter.h"
#include "serve/micro_batcher.h"
#include "serve/output_producer.h"
#include "serve/server_options.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::serve {
struct Server::Impl {
  ServerOptions options;
  ProcessorFactory factory;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> reload_requested{false};
  ServeMetrics metrics;
  std::atomic<int> bound_port{0};

  mutable std::mutex mu;  // guards the fields below
  ServerStats stats;
  std::map<kafka::TopicPartition, int64_t> positions;  // next offset to serve, per assigned partition

  // Pushed and retired by the run() thread, acknowledged by the producer's
  // poll thread (delivery reports). Declared before `producer` so that it
  // outlives the producer's last delivery reports.
  DeliveryPipeline pipeline{&metrics};
  std::exception_ptr rebalance_error;  // raised in on_rebalance, rethrown by run()

  // Owned by the run() thread.
  std::unique_ptr<HotReload> model;
  std::unique_ptr<kafka::Consumer> consumer;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<data::DeadLetterProducer> dead_letters;
  std::unique_ptr<MicroBatcher> batcher;
  std::unique_ptr<OutputProducer> outputs;
  std::unique_ptr<ExactlyOnceStep> transactions;  // exactly_once only
  std::unique_ptr<CommitTracker> commits;
  std::unique_ptr<AtLeastOnceStep> delivery;  // retire, back-pressure and drain (also at a revocation)
  std::string transactional_id;

  // The model version now serving, into the metrics and the stats.
  void publish_model_version() {
    const std::string version = model->processor().version();
    metrics.set_model_version(version);
    std::lock_guard lock(mu);
    stats.model_version = version;
  }

  void maybe_reload() {
    const HotReload::Outcome outcome = model->maybe_reload(reload_requested.exchange(false));
    if (outcome == HotReload::Outcome::kNone) return;
    const bool ok = outcome == HotReload::Outcome::kReloaded;
    if (ok) publish_model_version();
    metrics.record_reload(ok);
    std::lock_guard lock(mu);
    ++(ok ? stats.reloads : stats.reload_failures);
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
        delivery->drain(/*commit=*/!lost);
      } catch (...) {
        rebalance_error = std::current_exception();
      }
    }
    const std::vector<kafka::TopicPartitionOffset> final_commit = commits->release(parts);
    {
      std::lock_guard lock(mu);
      for (const auto& p : parts) positions.erase({p.topic, p.partition});
      stats.assigned_partitions = positions.size();
    }
    // Records of the revoked partitions polled for the micro-batch being
    // built are not ours to serve any more (their offsets were not
    // committed: the new owner serves them). Records polled after this
    // callback belong to the new assignment.
    if (batcher) batcher->drop_partitions(parts);
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

  // A delivery report of an output (on the producer's poll thread, or on the
  // thread in flush()).
  void on_delivery(const kafka::DeliveryReport& r) {
    PendingOutput* out = DeliveryPipeline::output_of(r.opaque);
    if (r.error.ok()) {
      if (out != nullptr && out->input_timestamp_ms >= 0) {
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        metrics.record_latency_us(std::chrono::duration_cast<std::chrono::microseconds>(now).count() -
                                  out->input_timestamp_ms * 1000);
      }
      if (out != nullptr && options.on_acknowledged) {
        options.on_acknowledged({out->input_topic ? *out->input_topic : std::string(), out->input_partition,
                                 out->input_offset},
                                out->input_timestamp_ms);
      }
      std::lock_guard lock(mu);
      ++stats.records_out;
    } else if (pipeline.note_delivery_failure()) {  // the first failure ends the service: log it once
      log_error("serve: output not delivered to {}: {}", r.topic, r.error.message());
    }
    pipeline.acknowledge(out, r.error);
  }

  // A micro-batch taken from the input (in flight until completed or aborted).
  void received(size_t records) {
    std::lock_guard lock(mu);
    stats.records_received += records;
    stats.records_in_flight += records;
  }
  // Records of a batch that left the pipeline (served, or aborted to be read again). Holds mu.
  void settle(size_t records) { stats.records_in_flight -= std::min<uint64_t>(records, stats.records_in_flight); }

  // Batches whose outputs were all acknowledged (and their offsets handed
  // to the CommitTracker).
  void complete(size_t records, size_t batches, const std::vector<kafka::TopicPartitionOffset>& offsets) {
    std::lock_guard lock(mu);
    stats.records_in += records;
    settle(records);
    stats.batches += batches;
    for (const auto& o : offsets) {
      auto it = positions.find({o.topic, o.partition});
      if (it != positions.end()) it->second = o.offset;
    }
  }

  // At-least-once: produce the batch's outputs and go on; delivery->retire() commits
  // it once it and the batches before it are acknowledged.
  void process_at_least_once(const std::vector<kafka::Message>& msgs) {
    outputs->serve(msgs, model->processor(), model->decoder());
    delivery->retire(/*sync=*/false);
  }

  // Exactly-once: one transaction per micro-batch; the pipeline holds at
  // most this batch, and is empty again when this returns.
  void process_exactly_once(const std::vector<kafka::Message>& msgs) {
    const auto offsets = transactions->run(msgs, [&] {
      return outputs->serve(msgs, model->processor(), model->decoder()).offsets;
    });
    if (offsets) {
      metrics.record_batch(msgs.size());
      commits->acknowledged(*offsets, /*to_commit=*/false);  // the transaction committed them
      complete(msgs.size(), 1, *offsets);
    } else {
      std::lock_guard lock(mu);
      ++stats.aborted_transactions;
      settle(msgs.size());  // rewound: read and served again
    }
  }
};

Server::Server(ServerOptions options, ProcessorFactory factory) : impl_(std::make_unique<Impl>()) {
  validate(options);
  if (!factory) throw ConfigError("serve: no processor factory");
  impl_->options = std::move(options);
  impl_->factory = std::move(factory);
}

Server::~Server() = default;

void Server::stop() { impl_->stop_requested = true; }

void Server::reload() { impl_->reload_requested = true; }

ServerStats Server::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::string Server::metrics_text() const { return impl_->metrics.prometheus_text(); }

int Server::metrics_port() const { return impl_->bound_port.load(); }

void Server::run() {
  Impl& s = *impl_;
  const ServerOptions& o = s.options;
  s.model = std::make_unique<HotReload>(s.factory, o.watch_path, std::chrono::milliseconds(o.watch_interval_ms));
  s.model->load();  // a model that cannot be loaded ends here
  s.publish_model_version();

  // Producer: low linger for latency, bounded queue (output_producer_config());
  // idempotent (kafka::Producer default).
  kafka::Config producer_config = output_producer_config(o);
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
  s.outputs = std::make_unique<OutputProducer>(o, *s.consumer, *s.producer, s.dead_letters.get(), s.pipeline,
                                               s.metrics, [&s](bool dead_lettered) {
                                                 std::lock_guard lock(s.mu);
                                                 ++s.stats.rejected;
                                                 if (dead_lettered) ++s.stats.dead_lettered;
                                               });
  auto commit_failed = [&s](const char* what, const kafka::KafkaError& err) { s.commit_failed(what, err); };
  s.commits = std::make_unique<CommitTracker>(*s.consumer, commit_failed);
  s.delivery = std::make_unique<AtLeastOnceStep>(
      *s.producer, s.pipeline, *s.commits, s.dead_letters.get(), s.metrics, in_flight_limit(o, producer_config),
      o.output_topic,
      [&s](size_t records, size_t batches, const auto& offsets) { s.complete(records, batches, offsets); },
      [&s](size_t records) {
        std::lock_guard lock(s.mu);
        s.settle(records);
      });
  s.batcher = std::make_unique<MicroBatcher>(*s.consumer, o.max_batch, std::chrono::microseconds(o.max_wait_us),
                                             s.stop_requested);
  if (o.exactly_once) {
    s.producer->init_transactions();
    s.transactions = std::make_unique<ExactlyOnceStep>(*s.producer, *s.consumer, s.dead_letters.get(), s.pipeline,
                                                       s.transactional_id, commit_failed);
  }

  std::unique_ptr<MetricsHttpServer> http;
  MetricsReporter reporter(
      *s.consumer, s.metrics, std::chrono::milliseconds(o.metrics_interval_ms),
      [&s] {
        std::lock_guard lock(s.mu);
        return s.positions;
      },
      [&s](uint64_t lost) {
        std::lock_guard lock(s.mu);
        s.stats.lost_records = lost;
      });
  reporter.start();
  auto cleanup = [&] {
    s.stop_requested = true;
    reporter.stop();
    http.reset();
    std::lock_guard lock(s.mu);
    s.stats.running = false;
  };
  try {
    if (o.metrics_port > 0) {
      http = std::make_unique<MetricsHttpServer>(
          o.metrics_host, o.metrics_port, [&s] { return s.metrics.prometheus_text(); },
          [&s] {
            std::lock_guard lock(s.mu);
            return s.stats.running;
          });
      s.bound_port = o.metrics_port;
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
             o.max_batch, o.max_wait_us, o.busy_fetch ? ", busy fetch" : "", s.model->processor().version());
    while (!s.stop_requested.load()) {
      s.maybe_reload();
      if (!o.exactly_once) {
        if (s.pipeline.delivery_failed()) s.delivery->drain(/*commit=*/true);  // commits up to the failure, throws
        s.delivery->wait_for_room(o.max_batch);
      }
      // With outputs in flight, come back soon to commit them once
      // acknowledged.
      s.batcher->poll(std::chrono::milliseconds(s.pipeline.empty() ? 100 : 10));
      if (s.rebalance_error) std::rethrow_exception(s.rebalance_error);
      if (s.batcher->empty()) continue;
      const std::vector<kafka::Message> msgs = s.batcher->take();
      s.received(msgs.size());
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
    if (!o.exactly_once) s.delivery->drain(/*commit=*/true);
    if (!o.exactly_once || s.transactions->plain_commits()) s.commits->commit_all("final commit");
    s.consumer->close();
    if (s.rebalance_error) std::rethrow_exception(s.rebalance_error);
    s.producer->close();
    reporter.update_lost_records();
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
