// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/server.h"

#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/decoder.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"
#include "streamml/serve/metrics.h"

namespace streamml::serve {
namespace {

using Clock = std::chrono::steady_clock;

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

std::optional<std::filesystem::file_time_type> mtime_of(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return std::nullopt;
  return t;
}

}  // namespace

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
  std::condition_variable cv;                          // wakes the metrics thread on stop

  // Owned by the run() thread.
  std::unique_ptr<Processor> processor;
  std::unique_ptr<data::Decoder> decoder;
  std::unique_ptr<kafka::Consumer> consumer;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<data::DeadLetterProducer> dead_letters;
  std::map<std::string, bool> same_partitions;  // input topic -> output has as many partitions
  std::vector<kafka::Message> building;         // the micro-batch being polled
  std::map<kafka::TopicPartition, int64_t> committed;  // last committed next-offsets
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
      install(factory());
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

  void on_rebalance(kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& parts) {
    if (event == kafka::RebalanceEvent::kAssigned) {
      log_info("serve: assigned {} partition(s)", parts.size());
      std::lock_guard lock(mu);
      for (const auto& p : parts) positions[{p.topic, p.partition}] = -1;
      return;
    }
    log_info("serve: {} {} partition(s)", event == kafka::RebalanceEvent::kLost ? "lost" : "revoked",
             parts.size());
    std::vector<kafka::TopicPartitionOffset> final_commit;
    {
      std::lock_guard lock(mu);
      for (const auto& p : parts) {
        kafka::TopicPartition tp{p.topic, p.partition};
        positions.erase(tp);
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
    if (!options.exactly_once && event == kafka::RebalanceEvent::kRevoked && !final_commit.empty()) {
      if (auto err = consumer->commit(final_commit, /*async=*/false)) {
        log_warn("serve: commit on revoke: {}", err.message());
      }
    }
  }

  // Appends the records of `polled` to the micro-batch being built (events
  // are logged; fatal errors throw).
  void take(std::vector<kafka::Message>& polled) {
    for (auto& m : polled) {
      if (kafka::KafkaError err = m.error()) {
        if (m.is_eof()) continue;
        if (err.is_fatal()) throw KafkaException(err.code(), "consumer: " + err.message());
        log_warn("serve: consumer: {}", err.message());
        continue;
      }
      building.push_back(std::move(m));
    }
  }

  // Polls one micro-batch into `building`: waits up to 100 ms for a first
  // record, then closes at max_batch records or max_wait_us after the first.
  void poll_micro_batch() {
    building.clear();
    // poll_batch() waits for a full batch or its timeout: wait for the first
    // record with poll(), which returns as soon as one is there.
    std::vector<kafka::Message> polled;
    if (kafka::Message first = consumer->poll(kafka::milliseconds(100)); !first.empty()) {
      polled.push_back(std::move(first));
    }
    take(polled);
    if (building.empty()) return;
    const auto deadline = Clock::now() + std::chrono::microseconds(options.max_wait_us);
    while (building.size() < options.max_batch && !stop_requested.load()) {
      const auto remaining =
          std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
      if (remaining <= 0) break;
      polled = consumer->poll_batch(options.max_batch - building.size(), kafka::milliseconds(remaining / 1000));
      if (polled.empty() && remaining < 1000) {
        std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(remaining, 100)));
      }
      take(polled);
      if (building.empty()) break;  // everything was revoked
    }
  }

  void reject(const data::RecordMeta& meta, std::string_view payload, const std::string& reason) {
    if (dead_letters) {
      dead_letters->send(meta, payload, reason);
      metrics.record_rejected(true);
      std::lock_guard lock(mu);
      ++stats.rejected;
      ++stats.dead_lettered;
    } else {
      log_warn("serve: bad record {}: {}", meta.location(), reason);
      metrics.record_rejected(false);
      std::lock_guard lock(mu);
      ++stats.rejected;
    }
  }

  // Decodes, processes and produces one micro-batch; returns the offsets to
  // commit (next offset per partition).
  std::vector<kafka::TopicPartitionOffset> serve_batch(const std::vector<kafka::Message>& msgs) {
    const size_t n = msgs.size();
    std::vector<data::RecordMeta> metas(n);
    for (size_t i = 0; i < n; ++i) {
      const kafka::Message& m = msgs[i];
      data::RecordMeta& meta = metas[i];
      meta.topic = m.topic();
      meta.partition = m.partition();
      meta.offset = m.offset();
      meta.timestamp_ms = m.timestamp_ms();
      meta.has_key = m.has_key();
      if (meta.has_key) meta.key = std::string(m.key());
      meta.headers = m.headers();
    }
    // Decode.
    data::Batch batch;
    const size_t width = decoder ? decoder->num_features() : 0;
    const size_t num_labels = decoder ? decoder->num_labels() : 0;
    std::vector<float> labels(num_labels);
    batch.num_features = width;
    batch.features.resize(n * width);
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
      batch.meta.push_back(metas[i]);
      batch.payloads.emplace_back(msgs[i].value());
    }
    batch.features.resize(batch.size * width);
    std::vector<ProcessResult> results;
    if (batch.size > 0) processor->process(batch, results);
    if (results.size() != batch.size) {
      throw std::logic_error("processor returned " + std::to_string(results.size()) + " results for " +
                             std::to_string(batch.size) + " records");
    }
    // Produce, in input order.
    const std::string version = processor->version();
    std::map<kafka::TopicPartition, int64_t> next;
    for (size_t i = 0; i < n; ++i) {
      const data::RecordMeta& meta = metas[i];
      next[{meta.topic, meta.partition}] = meta.offset + 1;
      const ProcessResult* result = row_of[i] >= 0 ? &results[static_cast<size_t>(row_of[i])] : nullptr;
      if (result == nullptr || !result->output) {
        std::string reason = result == nullptr          ? reasons[i]
                             : result->error.empty()    ? std::string("rejected by the processor")
                                                        : result->error;
        reject(meta, msgs[i].value(), reason);
        continue;
      }
      const OutputRecord& out = *result->output;
      kafka::ProduceRecord record;
      record.topic = options.output_topic;
      record.partition = same_partitions[meta.topic] ? meta.partition : kafka::kPartitionAny;
      if (out.key) record.key = std::string_view(*out.key);
      record.value = out.value;
      record.headers.reserve(out.headers.size() + 5);
      record.headers = out.headers;
      record.headers.push_back({data::kHeaderSourceTopic, meta.topic});
      record.headers.push_back({data::kHeaderSourcePartition, std::to_string(meta.partition)});
      record.headers.push_back({data::kHeaderSourceOffset, std::to_string(meta.offset)});
      record.headers.push_back({kHeaderModelVersion, version});
      if (meta.timestamp_ms >= 0) {
        record.headers.push_back({data::kHeaderSourceTimestamp, std::to_string(meta.timestamp_ms)});
        record.opaque = static_cast<uint64_t>(meta.timestamp_ms);
      }
      kafka::throw_if_error(producer->produce(record),
                            "producing the output of " + meta.location() + " to '" + options.output_topic + "'");
    }
    std::vector<kafka::TopicPartitionOffset> offsets;
    for (const auto& [tp, off] : next) offsets.push_back({tp.topic, tp.partition, off});
    return offsets;
  }

  // Waits until every output and dead letter of the batch was acknowledged.
  void await_delivery(int64_t failed_before) {
    kafka::FlushResult r = producer->flush();
    if (r.still_queued > 0 || producer->failed_count() > failed_before) {
      throw KafkaException(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                           "outputs to '" + options.output_topic +
                               "' were not acknowledged; their offsets are not committed");
    }
    if (dead_letters) dead_letters->flush();
  }

  void rewind(const std::vector<kafka::Message>& msgs) {
    std::map<kafka::TopicPartition, int64_t> first;
    for (const auto& m : msgs) first.try_emplace({m.topic(), m.partition()}, m.offset());
    for (const auto& [tp, off] : first) {
      if (auto err = consumer->seek({tp.topic, tp.partition, off})) {
        throw KafkaException(err.code(), "rewinding " + tp.topic + ":" + std::to_string(tp.partition) +
                                             " after an aborted transaction: " + err.message());
      }
    }
  }

  void complete(const std::vector<kafka::Message>& msgs, const std::vector<kafka::TopicPartitionOffset>& offsets) {
    metrics.record_batch(msgs.size());
    std::lock_guard lock(mu);
    stats.records_in += msgs.size();
    ++stats.batches;
    for (const auto& o : offsets) {
      committed[{o.topic, o.partition}] = o.offset;
      auto it = positions.find({o.topic, o.partition});
      if (it != positions.end()) it->second = o.offset;
    }
  }

  void process_at_least_once(const std::vector<kafka::Message>& msgs) {
    const int64_t failed_before = producer->failed_count();
    auto offsets = serve_batch(msgs);
    await_delivery(failed_before);
    if (auto err = consumer->commit(offsets, /*async=*/true)) log_warn("serve: commit: {}", err.message());
    complete(msgs, offsets);
  }

  void process_exactly_once(const std::vector<kafka::Message>& msgs) {
    const int64_t failed_before = producer->failed_count();
    producer->begin_transaction();
    try {
      auto offsets = serve_batch(msgs);
      if (dead_letters) dead_letters->flush();
      producer->send_offsets_to_transaction(offsets, *consumer);
      producer->commit_transaction();
      if (producer->failed_count() > failed_before) {
        throw KafkaException(RD_KAFKA_RESP_ERR__FAIL, "outputs failed inside a committed transaction");
      }
      if (!transactional_offsets_checked) {
        transactional_offsets_checked = true;
        check_transactional_offsets(offsets);
      }
      if (mock_cluster) {
        // librdkafka's mock cluster acknowledges TxnOffsetCommit without
        // storing the offsets: store them with a plain commit there (the
        // transaction already committed the outputs).
        if (auto err = consumer->commit(offsets, /*async=*/true)) log_warn("serve: commit: {}", err.message());
      }
      complete(msgs, offsets);
    } catch (const KafkaException& e) {
      char reason[512];
      if (rd_kafka_fatal_error(producer->handle(), reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("serve: transactional producer '{}' failed (fenced by a newer instance?): {}",
                  transactional_id, reason);
        throw;
      }
      log_warn("serve: aborting the transaction of a {}-record batch: {}", msgs.size(), e.what());
      producer->abort_transaction();
      rewind(msgs);
      std::lock_guard lock(mu);
      ++stats.aborted_transactions;
    }
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

  void update_lag() {
    std::map<kafka::TopicPartition, int64_t> pos;
    {
      std::lock_guard lock(mu);
      pos = positions;
    }
    for (const auto& [tp, next] : pos) {
      int64_t low = -1, high = -1;
      if (rd_kafka_get_watermark_offsets(consumer->handle(), tp.topic.c_str(), tp.partition, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        continue;
      }
      if (next >= 0) metrics.set_lag(tp, std::max<int64_t>(0, high - next));
    }
  }

  void metrics_loop() {
    std::unique_lock lock(mu);
    while (!stop_requested.load()) {
      cv.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(options.metrics_interval_ms, 100)));
      if (stop_requested.load()) break;
      lock.unlock();
      update_lag();
      if (options.metrics_interval_ms > 0) log_info("{}", metrics.interval_line());
      lock.lock();
    }
  }
};

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
  if (options.metrics_port < 0 || options.metrics_port > 65535) {
    throw ConfigError("--metrics-port: must be in 1..65535");
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

  // Consumer: manual commits only, read committed outputs of upstream
  // transactions. Low-latency fetch defaults for the embedded cluster are
  // applied by kafka::Consumer.
  kafka::Config consumer_config = o.kafka;
  consumer_config.set("group.id", o.group);
  consumer_config.set("enable.auto.commit", "false");
  consumer_config.set_default("auto.offset.reset", "earliest");
  consumer_config.set_default("isolation.level", "read_committed");
  // Producer: low linger for latency; idempotent (kafka::Producer default).
  kafka::Config producer_config = o.kafka;
  producer_config.set_default("linger.ms", "1");
  s.mock_cluster = kafka::EmbeddedCluster::is_embedded(o.kafka.get("bootstrap.servers").value_or(""));
  if (o.exactly_once) {
    s.transactional_id = "streamml-serve-" + o.group + "-" + o.instance_id;
    producer_config.set("transactional.id", s.transactional_id);
  }
  s.producer = std::make_unique<kafka::Producer>(producer_config, [&s](const kafka::DeliveryReport& r) {
    if (!r.error.ok()) {
      log_error("serve: output not delivered to {}: {}", r.topic, r.error.message());
      return;
    }
    if (r.opaque > 0) s.metrics.record_latency_us(wall_us() - static_cast<int64_t>(r.opaque) * 1000);
    std::lock_guard lock(s.mu);
    ++s.stats.records_out;
  });
  if (!o.dead_letter_topic.empty()) {
    s.dead_letters = std::make_unique<data::DeadLetterProducer>(producer_config.contains("transactional.id")
                                                                    ? o.kafka
                                                                    : producer_config,
                                                                o.dead_letter_topic);
  }
  s.consumer = std::make_unique<kafka::Consumer>(consumer_config);
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
        throw ConfigError("--metrics-port: cannot listen on " + o.metrics_host + ":" +
                          std::to_string(o.metrics_port));
      }
      s.bound_port = o.metrics_port;
      http_thread = std::thread([&http] { http->listen_after_bind(); });
    }
    s.consumer->subscribe(o.input_topics, [&s](kafka::RebalanceEvent e, const auto& parts) {
      s.on_rebalance(e, parts);
    });
    {
      std::lock_guard lock(s.mu);
      s.stats.running = true;
    }
    std::string inputs;
    for (const auto& t : o.input_topics) inputs += (inputs.empty() ? "" : ",") + t;
    log_info("serve: {} -> {} as group '{}' ({}; max batch {}, max wait {} us; model version {})", inputs, o.output_topic, o.group,
             o.exactly_once ? "exactly-once, transactional.id " + s.transactional_id : "at-least-once",
             o.max_batch, o.max_wait_us, s.processor->version());
    while (!s.stop_requested.load()) {
      s.maybe_reload();
      s.poll_micro_batch();
      if (s.building.empty()) continue;
      std::vector<kafka::Message> msgs = std::move(s.building);
      s.building.clear();
      if (o.exactly_once) {
        s.process_exactly_once(msgs);
      } else {
        s.process_at_least_once(msgs);
      }
    }
    // Graceful end: the batch in flight is done; make its commits stick
    // (also exactly-once on the mock cluster, whose offsets are stored by
    // plain asynchronous commits next to the transactions).
    if ((!o.exactly_once || s.mock_cluster) && !s.committed.empty()) {
      std::vector<kafka::TopicPartitionOffset> offsets;
      for (const auto& [tp, off] : s.committed) offsets.push_back({tp.topic, tp.partition, off});
      if (auto err = s.consumer->commit(offsets, /*async=*/false)) {
        log_warn("serve: final commit: {}", err.message());
      }
    }
    s.consumer->close();
    s.producer->close();
    log_info("serve: stopped after {} record(s)", stats().records_in);
  } catch (...) {
    cleanup();
    s.consumer.reset();
    throw;
  }
  cleanup();
  s.consumer.reset();
}

}  // namespace streamml::serve
