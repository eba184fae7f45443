// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// BatchBuilder: turns records, one at a time, into batches of decoded rows:
// decodes and checks each record, applies the bad-record policy to those
// that fail (kFail: InputError; kSkip: counted; kDeadLetter: handed to the
// sink and counted), optionally passes the rows through a shuffle buffer,
// and stops taking records after `take`. Knows nothing of Kafka: the caller
// passes each record's payload and RecordMeta.
//
// Records can also be decoded elsewhere (RowDecoder, on decode workers) and
// handed over decoded: add_decoded() and reject() keep the same order,
// policy and counts as add().
//
// Thread-safety: none; one thread (a dataset's prefetch thread) uses it.
// A RowDecoder is immutable and may be used from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "streamml/data/bad_record.h"
#include "streamml/data/batch.h"
#include "streamml/data/file_source.h"

namespace streamml::data {

class Decoder;

// Decodes records into rows appended to a Batch, and checks them. Shared by
// BatchBuilder::add() and the dataset's decode workers.
class RowDecoder {
 public:
  // Why a record was not appended: its decoder's or its check's reason.
  struct Rejection {
    std::string reason;
    bool invalid = false;  // decoded, but failed the check
  };

  // `decoder` (may be null: payloads only) must outlive it; `check` must be
  // safe to call from several threads when the RowDecoder is.
  RowDecoder(const Decoder* decoder, RecordCheck check, bool keep_payloads);

  // An empty batch of this decoder's widths, with room for `rows` rows.
  Batch empty_batch(size_t rows) const;
  // Appends the row of `payload` (and its meta, and the payload when kept)
  // to `target`; on a rejection `target` is unchanged and `meta` untouched.
  std::optional<Rejection> append(std::string_view payload, RecordMeta& meta, Batch& target) const;

 private:
  const Decoder* const decoder_;
  const RecordCheck check_;
  const bool keep_payloads_;
};

class BatchBuilder {
 public:
  struct Options {
    size_t batch_size = 32;        // rows per batch (>= 1)
    bool drop_remainder = false;   // flush() drops a last batch smaller than batch_size
    int64_t take = -1;             // records to take per epoch (-1: all)
    size_t shuffle_buffer = 0;     // rows shuffled through a buffer of this size (0: off)
    bool keep_payloads = false;    // also fill Batch::payloads
    BadRecordPolicy bad_records = BadRecordPolicy::kFail;
    RecordCheck check{};           // rejects decoded records; empty = none
    DeadLetterSink dead_letter{};  // required with kDeadLetter
  };

  // `decoder` (may be null: payloads only) and `bad` must outlive the builder.
  BatchBuilder(Options options, const Decoder* decoder, BadRecordCounter& bad);

  // Starts an epoch: no rows, nothing taken, the shuffle seeded with `seed`.
  void start(uint64_t seed);

  // Adds one record. Returns the batch it completed, if any. A record that
  // cannot be decoded or fails the check follows the policy (throws
  // InputError "cannot decode record T:P:O: why" under kFail).
  std::optional<Batch> add(std::string_view payload, RecordMeta meta);

  // Adds row `i` of `rows`, which a RowDecoder of the same options filled
  // (its meta and payload are moved from). Returns the batch it completed.
  std::optional<Batch> add_decoded(Batch& rows, size_t i);
  // Whether `rows` (decoded, all good) can become the next batch as they are:
  // nothing pending, no shuffle, exactly batch_size rows, within `take`.
  bool takes_whole(const Batch& rows) const;
  // Takes `rows` as the next batch (takes_whole() must hold).
  Batch take_whole(Batch rows);
  // A record a RowDecoder rejected: follows the policy as add() does.
  void reject(const RecordMeta& meta, std::string_view payload, const RowDecoder::Rejection& rejection);

  // Rows in the batch being filled.
  size_t pending() const { return current_.size; }
  // The batch being filled, however full, and a new empty one in its place.
  Batch take_pending();
  // `take` records were added this epoch.
  bool take_done() const { return options_.take >= 0 && taken_ >= options_.take; }

  // At the end of an epoch, one batch per call: the rows of the shuffle
  // buffer, then the partial batch (unless drop_remainder); nullopt when
  // nothing is left.
  std::optional<Batch> flush();

 private:
  Batch empty_batch() const;
  std::optional<Batch> added();
  void bad_record(const RecordMeta& meta, std::string_view payload, const std::string& reason, std::string_view what);

  const Options options_;
  const RowDecoder rows_;
  BadRecordCounter& bad_;
  Batch current_;
  Batch pool_;  // shuffle buffer
  std::mt19937_64 rng_;
  int64_t taken_ = 0;
};

}  // namespace streamml::data
