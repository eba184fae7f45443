// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/validation_split.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "streamml/common/error.h"

namespace streamml::data {

// Forwards the shape of the split source.
class SplitView : public BatchSource {
 public:
  explicit SplitView(BatchSource& source) : source_(source) {}
  size_t num_features() const override { return source_.num_features(); }
  size_t num_labels() const override { return source_.num_labels(); }
  std::vector<std::string> feature_names() const override { return source_.feature_names(); }
  std::string decoder_spec() const override { return source_.decoder_spec(); }

 protected:
  BatchSource& source_;
};

class ValidationSplit::TrainingView final : public SplitView {
 public:
  TrainingView(BatchSource& source, int64_t records) : SplitView(source), records_(records), left_(records) {}

  std::optional<Batch> next() override {
    if (dirty_) reset();
    if (left_ == 0) return std::nullopt;
    std::optional<Batch> batch = source_.next();
    if (!batch) {
      left_ = 0;
      return std::nullopt;
    }
    if (static_cast<int64_t>(batch->size) > left_) {
      carry_ = batch->slice(static_cast<size_t>(left_), batch->size);
      *batch = batch->slice(0, static_cast<size_t>(left_));
    }
    left_ -= static_cast<int64_t>(batch->size);
    at_split_ = left_ == 0;
    return batch;
  }

  void reset() override {
    source_.reset();
    left_ = records_;
    carry_.reset();
    at_split_ = records_ == 0;
    dirty_ = false;
  }

  void commit() override { source_.commit(); }
  std::optional<int64_t> size_hint() const override { return records_; }

  // The validation view read on from the split point: reset before the
  // next training pass.
  void mark_dirty() { dirty_ = true; }
  // True when the source stands right after the training records (their
  // last batch's rest is in carry).
  bool at_split() const { return at_split_ && !dirty_; }
  std::optional<Batch> take_carry() { return std::exchange(carry_, std::nullopt); }

 private:
  const int64_t records_;
  int64_t left_;
  std::optional<Batch> carry_;  // rows of the last training batch past the split
  bool at_split_ = false;
  bool dirty_ = false;
};

class ValidationSplit::ValidationView final : public SplitView {
 public:
  ValidationView(BatchSource& source, TrainingView& training, int64_t skip)
      : SplitView(source), training_(training), skip_(skip) {}

  std::optional<Batch> next() override {
    if (!loaded_) load();
    if (index_ >= batches_.size()) return std::nullopt;
    return batches_[index_++];
  }
  void reset() override { index_ = 0; }
  std::optional<int64_t> size_hint() const override { return records_; }

 private:
  // Reads the validation records once: on from the split point when the
  // training pass just ended there, else after skipping the training records.
  void load() {
    if (training_.at_split()) {
      if (std::optional<Batch> carry = training_.take_carry()) batches_.push_back(std::move(*carry));
    } else {
      source_.reset();
      int64_t left = skip_;
      while (left > 0) {
        std::optional<Batch> batch = source_.next();
        if (!batch) break;
        if (static_cast<int64_t>(batch->size) > left) {
          batches_.push_back(batch->slice(static_cast<size_t>(left), batch->size));
          left = 0;
          break;
        }
        left -= static_cast<int64_t>(batch->size);
      }
    }
    while (std::optional<Batch> batch = source_.next()) batches_.push_back(std::move(*batch));
    training_.mark_dirty();
    for (const Batch& b : batches_) records_ += static_cast<int64_t>(b.size);
    loaded_ = true;
  }

  TrainingView& training_;
  const int64_t skip_;
  bool loaded_ = false;
  std::vector<Batch> batches_;
  size_t index_ = 0;
  int64_t records_ = 0;
};

ValidationSplit::ValidationSplit(BatchSource& source, double fraction) : source_(source) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    throw ConfigError(fmt::format("validation split {} is invalid: use a fraction between 0 and 1 (e.g. 0.2)", fraction));
  }
  int64_t total = 0;
  while (std::optional<Batch> batch = source_.next()) total += static_cast<int64_t>(batch->size);
  source_.reset();
  validation_records_ = static_cast<int64_t>(std::floor(static_cast<double>(total) * fraction));
  training_records_ = total - validation_records_;
  if (validation_records_ == 0 || training_records_ == 0) {
    throw ConfigError(fmt::format("validation split {} of {} record(s) leaves no {} record", fraction, total,
                                  validation_records_ == 0 ? "validation" : "training"));
  }
  training_ = std::make_unique<TrainingView>(source_, training_records_);
  validation_ = std::make_unique<ValidationView>(source_, *training_, training_records_);
}

ValidationSplit::~ValidationSplit() = default;

BatchSource& ValidationSplit::training() { return *training_; }
BatchSource& ValidationSplit::validation() { return *validation_; }

}  // namespace streamml::data
