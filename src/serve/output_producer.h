// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// OutputProducer: serves one micro-batch up to the producer. Decodes its
// records with the processor's decoder, runs the processor, and produces one
// output per input record, in input order, into a new batch at the end of
// the delivery pipeline (asynchronously: the delivery reports acknowledge
// them). Outputs carry the processor's headers plus the source coordinates
// and the model version (server.h); an output goes to the input's partition
// number when the output topic has as many partitions as the input topic,
// otherwise to the partitioner. Bad records (undecodable, rejected by the
// processor, or an output too large to produce) go to the dead-letter
// producer or are logged; any other output the producer refuses at once
// throws OutputRefused naming the record.
//
// Thread-safety: one thread (the serving loop) uses it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "serve/delivery_pipeline.h"
#include "streamml/data/batch.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/decoder.h"
#include "streamml/data/record_meta.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/producer.h"
#include "streamml/serve/metrics.h"
#include "streamml/serve/processor.h"
#include "streamml/serve/server.h"

namespace streamml::serve {

class OutputProducer {
 public:
  // Called for every bad record, with whether it was dead-lettered.
  using OnRejected = std::function<void(bool dead_lettered)>;

  // Reads the partition counts of the input and output topics through
  // `consumer` (KafkaException when a topic does not exist). Every
  // reference must outlive this object; `dead_letters` may be null (bad
  // records are logged).
  OutputProducer(const ServerOptions& options, const kafka::Consumer& consumer, kafka::Producer& producer, data::DeadLetterProducer* dead_letters, DeliveryPipeline& pipeline,
                 ServeMetrics& metrics, OnRejected on_rejected);

  // Decodes, processes and produces `msgs` into a new batch of the pipeline
  // (its offsets set to the next offset of each partition); returns it.
  // Throws OutputRefused (the batch is in the pipeline, failed) and
  // std::logic_error when the processor answers the wrong number of results.
  InFlightBatch& serve(const std::vector<kafka::Message>& msgs, Processor& processor, data::Decoder* decoder);

 private:
  // Dead-letters or logs a bad record; returns whether it was dead-lettered.
  bool reject(const data::RecordMeta& meta, std::string_view payload, const std::string& reason);
  // An output the producer refused at once (see the .cc); returns whether
  // it was dead-lettered.
  bool refused(InFlightBatch& flight, const data::RecordMeta& meta, const OutputRecord& out,
               const kafka::KafkaError& err);

  // The entry of options_.input_topics named `name` (nullptr: none).
  const std::string* input_topic(std::string_view name) const;
  // Sets record_.headers for `out` of the input `meta` (see the .cc).
  void set_headers(const OutputRecord& out, const data::RecordMeta& meta, const std::string& version);

  const ServerOptions& options_;
  std::map<std::string, bool> same_partitions_;  // input topic -> output has as many partitions
  kafka::Producer& producer_;
  data::DeadLetterProducer* const dead_letters_;
  DeliveryPipeline& pipeline_;
  ServeMetrics& metrics_;
  const OnRejected on_rejected_;
  // Reused from one micro-batch to the next (serve()).
  data::Batch batch_;
  std::vector<float> labels_;
  std::vector<int64_t> row_of_;     // per input record: its row in batch_, -1 when undecodable
  std::vector<std::string> reasons_;  // per input record: why it was undecodable
  std::vector<ProcessResult> results_;
  kafka::ProduceRecord record_;       // reused for every output (keeps its headers' capacity)
  bool source_headers_only_ = false;  // record_.headers holds the source headers only
};

}  // namespace streamml::serve
