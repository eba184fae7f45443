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

BatchBuilder::BatchBuilder(Options options, const Decoder* decoder, BadRecordCounter& bad)
    : options_(std::move(options)), decoder_(decoder), bad_(bad) {}

void BatchBuilder::start(uint64_t seed) {
  current_ = empty_batch();
  pool_ = empty_batch();
  taken_ = 0;
  rng_.seed(seed);
}

Batch BatchBuilder::empty_batch() const {
  Batch b;
  b.num_features = decoder_ ? decoder_->num_features() : 0;
  b.num_labels = decoder_ ? decoder_->num_labels() : 0;
  // A batch is filled row by row: size it once instead of growing it.
  const size_t rows = std::min<size_t>(options_.batch_size, kMaxReservedRows);
  b.features.reserve(rows * b.num_features);
  b.labels.reserve(rows * b.num_labels);
  b.meta.reserve(rows);
  if (options_.keep_payloads) b.payloads.reserve(rows);
  return b;
}

std::optional<Batch> BatchBuilder::add(std::string_view payload, RecordMeta meta) {
  Batch& target = options_.shuffle_buffer > 0 ? pool_ : current_;
  const size_t f = target.num_features, l = target.num_labels, row = target.size;
  if (decoder_) {
    target.features.resize((row + 1) * f);
    target.labels.resize((row + 1) * l);
    std::optional<std::string> reason =
        decoder_->decode(payload, target.features.data() + row * f, l ? target.labels.data() + row * l : nullptr);
    if (reason) {
      target.features.resize(row * f);
      target.labels.resize(row * l);
      bad_record(meta, payload, *reason, "cannot decode record ");
      return std::nullopt;
    }
    if (options_.check) {
      std::optional<std::string> invalid = options_.check(std::span<const float>(target.features.data() + row * f, f),
                                                          std::span<const float>(target.labels.data() + row * l, l));
      if (invalid) {
        target.features.resize(row * f);
        target.labels.resize(row * l);
        bad_record(meta, payload, *invalid, "invalid record ");
        return std::nullopt;
      }
    }
  }
  if (options_.keep_payloads) target.payloads.emplace_back(payload);
  target.meta.push_back(std::move(meta));
  ++target.size;
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
