// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Processor: what the serving loop (serve/server.h) does with a micro-batch
// of input records. The default processor decodes with the model file's
// decoder and predicts with the model; applications plug in their own (the
// horse-race ranking service keeps per-race state and ranks the field).
//
// Contract: process() returns exactly one ProcessResult per input row, in row
// order. A result is either an output record (produced to the output topic,
// in input order per partition) or a rejection (the input goes to the
// dead-letter topic with the reason, or is counted and logged). process()
// must not throw for bad records; an exception ends the service.
//
// Thread-safety: a Processor is called from one thread (the serving loop).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streamml/data/batch.h"
#include "streamml/kafka/types.h"

namespace streamml::serve {

struct OutputRecord {
  std::optional<std::string> key;  // nullopt: null key (default: the input's key)
  std::string value;
  kafka::Headers headers;          // added to the standard source headers
};

struct ProcessResult {
  std::optional<OutputRecord> output;  // set: produce it
  std::string error;                   // when output is unset: why the input was rejected
};

class Processor {
 public:
  virtual ~Processor() = default;

  // Decoder spec the serving loop decodes inputs with before process()
  // ("" = no decoding: process() reads batch.payloads).
  virtual std::string decoder_spec() const = 0;

  // One result per row of `batch` (features decoded with decoder_spec(),
  // metadata always present, payloads unless reads_payloads() is false).
  virtual void process(const data::Batch& batch, std::vector<ProcessResult>& results) = 0;

  // Whether process() reads batch.payloads (default: true). A processor that
  // only reads the decoded features answers false, and the serving loop
  // leaves the payloads out of its batches (no copy per record).
  virtual bool reads_payloads() const { return true; }

  // Version stamped into every output's headers (e.g. the model file's
  // version); changes on hot reload.
  virtual std::string version() const = 0;

  // What the outputs look like (e.g. "json multiclass:3"): a hot reload to a
  // processor with another schema is refused, since the readers of the
  // output topic expect this one. "" (default): not checked.
  virtual std::string output_schema() const { return ""; }
};

// Builds a processor; called at start and on every hot reload. Throws when
// the model cannot be loaded (at start: the service exits with an error; on
// reload: the old processor keeps serving).
using ProcessorFactory = std::function<std::unique_ptr<Processor>()>;

}  // namespace streamml::serve
