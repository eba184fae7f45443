// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/batch_builder.h"

#include <algorithm>
#include <span>
#include <string>
#include <utility>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"

namespace streamml::data {
namespace {

constexpr size_t kMaxReservedRows = 4096;  // rows reserved up front in a batch

// Moves row `i` of `from` to the end of `to` (same widths); `from` loses it
// by swapping in its last row.
void move_row(Batch& from, size_t i, Batch& to) {
  const size_t f = from.num_features, l = from.num_labels, last = from.size - 1;
  to.features.insert(to.features.end(), from.features.begin() + i * f, from.features.begin() + (i + 1) * f);
  to.labels.insert(to.labels.end(), from.labels.begin() + i * l, from.labels.begin() + (i + 1) * l);
  to.meta.push_back(std::move(from.meta[i]));
  if (!from.payloads.empty()) to.payloads.push_back(std::move(from.payloads[i]));
  ++to.size;
  if (i != last) {
    std::copy(from.features.begin() + last * f, from.features.begin() + (last + 1) * f, from.features.begin() + i * f);
    std::copy(from.labels.begin() + last * l, from.labels.begin() + (last + 1) * l, from.labels.begin() + i * l);
    from.meta[i] = std::move(from.meta[last]);
    if (!from.payloads.empty()) from.payloads[i] = std::move(from.payloads[last]);
  }
  from.features.resize(last * f);
  from.labels.resize(last * l);
  from.meta.pop_back();
  if (!from.payloads.empty()) from.payloads.pop_back();
  from.size = last;
}

}  // namespace

RowDecoder::RowDecoder(const Decoder* decoder, RecordCheck check, bool keep_payloads)
    : decoder_(decoder), check_(std::move(check)), keep_payloads_(keep_payloads) {}

Batch RowDecoder::empty_batch(size_t rows) const {
  Batch b;
  b.num_features = decoder_ ? decoder_->num_features() : 0;
  b.num_labels = decoder_ ? decoder_->num_labels() : 0;
  b.features.reserve(rows * b.num_features);
  b.labels.reserve(rows * b.num_labels);
  b.meta.reserve(rows);
  if (keep_payloads_) b.payloads.reserve(rows);
  return b;
}

std::optional<RowDecoder::Rejection> RowDecoder::append(std::string_view payload, RecordMeta& meta,
                                                        Batch& target) const {
  const size_t f = target.num_features, l = target.num_labels, row = target.size;
  if (decoder_) {
    target.features.resize((row + 1) * f);
    target.labels.resize((row + 1) * l);
    float* features = target.features.data() + row * f;
    float* labels = l ? target.labels.data() + row * l : nullptr;
    std::optional<Rejection> rejection;
    if (std::optional<std::string> reason = decoder_->decode(payload, features, labels)) {
      rejection = Rejection{std::move(*reason), /*invalid=*/false};
    } else if (check_) {
      if (std::optional<std::string> invalid =
              check_(std::span<const float>(features, f), std::span<const float>(labels, l))) {
        rejection = Rejection{std::move(*invalid), /*invalid=*/true};
      }
    }
    if (rejection) {
      target.features.resize(row * f);
      target.labels.resize(row * l);
      return rejection;
    }
  }
  if (keep_payloads_) target.payloads.emplace_back(payload);
  target.meta.push_back(std::move(meta));
  ++target.size;
  return std::nullopt;
}

BatchBuilder::BatchBuilder(Options options, const Decoder* decoder, BadRecordCounter& bad)
    : options_(std::move(options)), rows_(decoder, options_.check, options_.keep_payloads), bad_(bad) {}

void BatchBuilder::start(uint64_t seed) {
  current_ = empty_batch();
  pool_ = empty_batch();
  taken_ = 0;
  rng_.seed(seed);
}

// A batch is filled row by row: size it once instead of growing it.
Batch BatchBuilder::empty_batch() const {
  return rows_.empty_batch(std::min<size_t>(options_.batch_size, kMaxReservedRows));
}

std::optional<Batch> BatchBuilder::add(std::string_view payload, RecordMeta meta) {
  Batch& target = options_.shuffle_buffer > 0 ? pool_ : current_;
  if (std::optional<RowDecoder::Rejection> rejection = rows_.append(payload, meta, target)) {
    reject(meta, payload, *rejection);
    return std::nullopt;
  }
  return added();
}

std::optional<Batch> BatchBuilder::add_decoded(Batch& rows, size_t i) {
  Batch& target = options_.shuffle_buffer > 0 ? pool_ : current_;
  const size_t f = rows.num_features, l = rows.num_labels;
  target.features.insert(target.features.end(), rows.features.begin() + i * f, rows.features.begin() + (i + 1) * f);
  target.labels.insert(target.labels.end(), rows.labels.begin() + i * l, rows.labels.begin() + (i + 1) * l);
  target.meta.push_back(std::move(rows.meta[i]));
  if (options_.keep_payloads) target.payloads.push_back(std::move(rows.payloads[i]));
  ++target.size;
  return added();
}

bool BatchBuilder::takes_whole(const Batch& rows) const {
  return current_.size == 0 && options_.shuffle_buffer == 0 && rows.size == options_.batch_size &&
         (options_.take < 0 || taken_ + static_cast<int64_t>(rows.size) <= options_.take);
}

Batch BatchBuilder::take_whole(Batch rows) {
  taken_ += static_cast<int64_t>(rows.size);
  return rows;
}

void BatchBuilder::reject(const RecordMeta& meta, std::string_view payload, const RowDecoder::Rejection& rejection) {
  bad_record(meta, payload, rejection.reason, rejection.invalid ? "invalid record " : "cannot decode record ");
}

// A row was appended to the pool or the current batch.
std::optional<Batch> BatchBuilder::added() {
  ++taken_;
  if (options_.shuffle_buffer > 0 && pool_.size > options_.shuffle_buffer) {
    move_row(pool_, std::uniform_int_distribution<size_t>(0, pool_.size - 1)(rng_), current_);
  }
  if (current_.size >= options_.batch_size) return take_pending();
  return std::nullopt;
}

Batch BatchBuilder::take_pending() {
  Batch batch = std::move(current_);
  current_ = empty_batch();
  return batch;
}

std::optional<Batch> BatchBuilder::flush() {
  while (pool_.size > 0) {
    move_row(pool_, std::uniform_int_distribution<size_t>(0, pool_.size - 1)(rng_), current_);
    if (current_.size >= options_.batch_size) return take_pending();
  }
  if (current_.size > 0 && !(options_.drop_remainder && current_.size < options_.batch_size)) {
    return take_pending();
  }
  return std::nullopt;
}

// `what` starts the kFail message: "cannot decode record " or "invalid record ".
void BatchBuilder::bad_record(const RecordMeta& meta, std::string_view payload, const std::string& reason,
                              std::string_view what) {
  switch (options_.bad_records) {
    case BadRecordPolicy::kFail:
      throw InputError(std::string(what) + meta.location() + ": " + reason);
    case BadRecordPolicy::kSkip:
      bad_.add(meta.location(), reason);
      return;
    case BadRecordPolicy::kDeadLetter:
      options_.dead_letter(meta, payload, reason);
      bad_.add(meta.location(), reason);
      return;
  }
}

}  // namespace streamml::data
