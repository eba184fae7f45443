// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/output_producer.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>

#include "serve/commit_tracker.h"
#include "streamml/common/logging.h"
#include "streamml/data/batch.h"

namespace streamml::serve {
OutputProducer::OutputProducer(const ServerOptions& options, const kafka::Consumer& consumer,
                               kafka::Producer& producer, data::DeadLetterProducer* dead_letters,
                               DeliveryPipeline& pipeline, ServeMetrics& metrics, OnRejected on_rejected)
    : options_(options),
      producer_(producer),
      dead_letters_(dead_letters),
      pipeline_(pipeline),
      metrics_(metrics),
      on_rejected_(std::move(on_rejected)) {
  const auto output_partitions = consumer.partitions_of(options.output_topic).size();
  for (const auto& t : options.input_topics) {
    same_partitions_[t] = consumer.partitions_of(t).size() == output_partitions;
  }
}

// Outputs are produced asynchronously: their delivery reports acknowledge
// them (DeliveryPipeline::acknowledge()).
InFlightBatch& OutputProducer::serve(const std::vector<kafka::Message>& msgs, Processor& processor,
                                     data::Decoder* decoder) {
  const size_t n = msgs.size();
  // Decode; the metadata of decoded records moves into the batch. The
  // batch, results and per-record vectors are members reused from one
  // micro-batch to the next (no large allocation and free per batch).
  data::Batch& batch = batch_;
  const size_t width = decoder ? decoder->num_features() : 0;
  const size_t num_labels = decoder ? decoder->num_labels() : 0;
  labels_.resize(num_labels);
  batch.size = 0;
  batch.num_features = width;
  batch.features.resize(n * width);
  batch.meta.clear();
  batch.meta.reserve(n);
  batch.payloads.clear();
  const bool payloads = processor.reads_payloads();
  if (payloads) batch.payloads.reserve(n);
  std::vector<int64_t>& row_of = row_of_;
  row_of.assign(n, -1);
  std::vector<std::string>& reasons = reasons_;
  reasons.clear();
  reasons.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (decoder) {
      auto error = decoder->decode(msgs[i].value(), batch.features.data() + batch.size * width,
                                   num_labels ? labels_.data() : nullptr);
      if (error) {
        reasons[i] = "undecodable record: " + *error;
        continue;
      }
    }
    row_of[i] = static_cast<int64_t>(batch.size++);
    const std::string* topic = input_topic(msgs[i].topic_view());
    batch.meta.push_back(topic ? data::meta_of(msgs[i], *topic) : data::meta_of(msgs[i]));
    if (payloads) batch.payloads.emplace_back(msgs[i].value());
  }
  batch.features.resize(batch.size * width);
  std::vector<ProcessResult>& results = results_;
  results.clear();
  if (batch.size > 0) processor.process(batch, results);
  if (results.size() != batch.size) {
    throw std::logic_error("processor returned " + std::to_string(results.size()) + " results for " +
                           std::to_string(batch.size) + " records");
  }
  size_t num_outputs = 0;
  for (const ProcessResult& r : results) num_outputs += r.output ? 1 : 0;
  InFlightBatch& flight = pipeline_.push(n, num_outputs);
  // Produce, in input order.
  const std::string version = processor.version();
  std::map<kafka::TopicPartition, int64_t> next;
  int64_t* next_of_last = nullptr;  // records of one partition come in runs: look up once per run
  std::string_view last_topic;  // views into msgs, which outlive the loop
  const std::string* last_topic_name = nullptr;  // in options_.input_topics
  int32_t last_partition = -1;
  kafka::ProduceRecord& record = record_;
  record.topic = options_.output_topic;
  size_t bytes = 0;  // of the outputs the producer queued
  for (size_t i = 0; i < n; ++i) {
    const kafka::Message& m = msgs[i];
    if (next_of_last == nullptr || m.partition() != last_partition || m.topic_view() != last_topic) {
      next_of_last = &next[{m.topic(), m.partition()}];
      last_topic_name = input_topic(m.topic_view());
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
    auto same = same_partitions_.find(meta.topic);
    record.partition = same != same_partitions_.end() && same->second ? meta.partition : kafka::kPartitionAny;
    record.key = out.key ? std::optional<std::string_view>(*out.key) : std::nullopt;
    record.value = out.value;
    set_headers(out, meta, version);
    record.opaque =
        DeliveryPipeline::track(flight, {&flight, meta.timestamp_ms, last_topic_name, meta.partition, meta.offset});
    if (kafka::KafkaError err = producer_.produce(record)) {
      if (refused(flight, meta, out, err)) ++flight.dead_letters;
      continue;
    }
    bytes += record.value.size() + (record.key ? record.key->size() : 0);
    for (const kafka::Header& h : record.headers) bytes += h.name.size() + (h.value ? h.value->size() : 0);
  }
  pipeline_.add_bytes(flight, bytes);
  flight.offsets = offsets_of(next);
  return flight;
}

const std::string* OutputProducer::input_topic(std::string_view name) const {
  for (const std::string& t : options_.input_topics) {
    if (t == name) return &t;
  }
  return nullptr;
}

// The record's headers: the processor's, then the source headers. The names
// are set once and the values assigned in place, so an output with no
// headers of its own allocates nothing here (the values fit the capacity the
// strings kept from the outputs before it).
void OutputProducer::set_headers(const OutputRecord& out, const data::RecordMeta& meta, const std::string& version) {
  kafka::Headers& h = record_.headers;
  const bool timestamp = meta.timestamp_ms >= 0;
  const size_t count = out.headers.size() + (timestamp ? 5 : 4);
  if (!out.headers.empty() || !source_headers_only_ || h.size() != count) {
    h.clear();
    h.insert(h.end(), out.headers.begin(), out.headers.end());
    for (const char* name : {data::kHeaderSourceTopic, data::kHeaderSourcePartition, data::kHeaderSourceOffset,
                             kHeaderModelVersion}) {
      h.push_back({name, std::string()});
    }
    if (timestamp) h.push_back({data::kHeaderSourceTimestamp, std::string()});
    source_headers_only_ = out.headers.empty();
  }
  auto set_number = [](kafka::Header& header, int64_t value) {
    char text[24];
    const auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
    header.value->assign(text, end);
  };
  kafka::Header* source = h.data() + out.headers.size();
  source[0].value->assign(meta.topic);
  set_number(source[1], meta.partition);
  set_number(source[2], meta.offset);
  source[3].value->assign(version);
  if (timestamp) set_number(source[4], meta.timestamp_ms);
}

// An output the producer refused at once: it gets no delivery report, so
// it leaves the batch's count. One too large to produce is a bad record
// (dead-lettered, truncated if need be, or logged; its offset is
// committed); returns whether it was dead-lettered. Any other refusal
// (e.g. authorization, a fatal producer error; also after a failed
// delivery, which librdkafka repeats for the topic's next records) throws
// OutputRefused naming the record: the batch fails, and nothing at or
// after it is committed.
bool OutputProducer::refused(InFlightBatch& flight, const data::RecordMeta& meta, const OutputRecord& out,
                             const kafka::KafkaError& err) {
  std::string reason = "output of " + meta.location() + " refused by the producer for '" + options_.output_topic +
                       "': " + err.message();
  pipeline_.refuse(flight, reason, err.code(), /*fails_batch=*/!err.is_message_too_large());
  if (!err.is_message_too_large()) throw OutputRefused(err.code(), reason);
  data::RecordMeta output_meta = meta;  // the refused record: the output, with its key
  output_meta.has_key = out.key.has_value();
  output_meta.key = out.key.value_or("");
  return reject(output_meta, out.value, reason);
}

// Dead-letters or logs a bad record; returns whether it was dead-lettered.
bool OutputProducer::reject(const data::RecordMeta& meta, std::string_view payload, const std::string& reason) {
  const bool dead_lettered = dead_letters_ != nullptr;
  if (dead_lettered) {
    dead_letters_->send(meta, payload, reason);
  } else {
    log_warn("serve: bad record {}: {}", meta.location(), reason);
  }
  metrics_.record_rejected(dead_lettered);
  on_rejected_(dead_lettered);
  return dead_lettered;
}

}  // namespace streamml::serve
