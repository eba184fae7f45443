// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/demo/ranking_service.h"

#include <fmt/format.h>

#include <chrono>
#include <map>

#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/batch.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"

namespace streamml::demo {
namespace {

using Clock = std::chrono::steady_clock;

void validate(const RankingServiceOptions& o) {
  if (o.input_topic.empty()) throw ConfigError("ranking service: input topic is required");
  if (o.output_topic.empty()) throw ConfigError("ranking service: output topic is required");
  if (o.group.empty()) throw ConfigError("ranking service: group is required");
  if (o.max_batch == 0) throw ConfigError("ranking service: max_batch must be >= 1");
  if (o.poll_timeout_ms < 1) throw ConfigError("ranking service: poll_timeout_ms must be >= 1");
  if (o.commit_interval_ms < 1) throw ConfigError("ranking service: commit_interval_ms must be >= 1");
}

}  // namespace

RankingServiceStats run_ranking_service(const kafka::Config& config, serve::Processor& processor,
                                        const RankingServiceOptions& options, const std::atomic<bool>& stop,
                                        std::atomic<bool>* ready) {
  validate(options);
  kafka::Config consumer_config = config;
  consumer_config.set("group.id", options.group);
  consumer_config.set_default("auto.offset.reset", "earliest");
  kafka::Consumer consumer(consumer_config);
  consumer.subscribe({options.input_topic},
                     [ready](kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>&) {
                       if (ready != nullptr && event == kafka::RebalanceEvent::kAssigned) ready->store(true);
                     });

  kafka::Config producer_config = config;
  producer_config.set_default("linger.ms", "1");
  std::atomic<int64_t> failed{0};
  kafka::Producer producer(producer_config, [&](const kafka::DeliveryReport& r) {
    if (!r.error.ok() && failed.fetch_add(1) < 5) {
      log_error("ranking service: ranking not delivered to {}: {}", r.topic, r.error.message());
    }
  });

  RankingServiceStats stats;
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;  // processed, not yet committed
  auto commit = [&] {
    if (next_offsets.empty()) return;
    // Everything produced so far must be delivered before its inputs are committed.
    const kafka::FlushResult flushed = producer.flush(kafka::kDefaultFlushTimeout);
    if (!flushed.ok() || failed.load() > 0) {
      throw KafkaException(-1, fmt::format("ranking service: {} ranking(s) not delivered to '{}'",
                                           flushed.still_queued + failed.load(), options.output_topic));
    }
    std::vector<kafka::TopicPartitionOffset> offsets;
    for (const auto& [tp, offset] : next_offsets) offsets.push_back({tp.first, tp.second, offset});
    const kafka::KafkaError err = consumer.commit(offsets, /*async=*/true);
    if (!err.ok()) log_warn("ranking service: commit failed: {}", err.message());
    next_offsets.clear();
  };

  auto last_commit = Clock::now();
  auto last_input = Clock::now();
  std::vector<serve::ProcessResult> results;
  uint64_t logged_rejections = 0;
  while (!stop.load()) {
    std::vector<kafka::Message> messages =
        consumer.poll_batch(options.max_batch, std::chrono::milliseconds(options.poll_timeout_ms));
    data::Batch batch;
    for (kafka::Message& m : messages) {
      if (m.error()) {
        if (!m.is_eof()) log_warn("ranking service: consumer: {}", m.error().message());
        continue;
      }
      data::RecordMeta meta;
      meta.topic = m.topic();
      meta.partition = m.partition();
      meta.offset = m.offset();
      meta.timestamp_ms = m.timestamp_ms();
      meta.has_key = m.has_key();
      if (meta.has_key) meta.key = std::string(m.key());
      meta.headers = m.headers();
      batch.payloads.emplace_back(m.value());
      batch.meta.push_back(std::move(meta));
      ++batch.size;
    }
    producer.poll();
    if (batch.size > 0) {
      last_input = Clock::now();
      processor.process(batch, results);
      if (results.size() != batch.size) {
        throw Error(fmt::format("ranking service: the processor returned {} results for {} records", results.size(),
                                batch.size));
      }
      ++stats.batches;
      stats.inputs += batch.size;
      for (size_t i = 0; i < batch.size; ++i) {
        const data::RecordMeta& meta = batch.meta[i];
        next_offsets[{meta.topic, meta.partition}] = meta.offset + 1;
        serve::ProcessResult& r = results[i];
        if (!r.output) {
          ++stats.rejected;
          if (logged_rejections++ < 10) log_warn("ranking service: rejected {}: {}", meta.location(), r.error);
          continue;
        }
        kafka::ProduceRecord record;
        record.topic = options.output_topic;
        if (r.output->key) record.key = *r.output->key;
        record.value = r.output->value;
        record.headers = std::move(r.output->headers);
        record.headers.push_back({"streamml.source", meta.location()});
        if (!processor.version().empty()) record.headers.push_back({"streamml.model_version", processor.version()});
        const kafka::KafkaError err = producer.produce(record);
        if (!err.ok()) {
          throw KafkaException(err.code(), fmt::format("ranking service: producing the ranking of {}: {}",
                                                       meta.location(), err.message()));
        }
        ++stats.outputs;
      }
    } else if (options.idle_timeout_ms >= 0 &&
               Clock::now() - last_input > std::chrono::milliseconds(options.idle_timeout_ms)) {
      log_info("ranking service: no input for {} ms, stopping", options.idle_timeout_ms);
      break;
    }
    if (Clock::now() - last_commit > std::chrono::milliseconds(options.commit_interval_ms)) {
      commit();
      last_commit = Clock::now();
    }
  }
  commit();
  consumer.close();
  return stats;
}

}  // namespace streamml::demo
