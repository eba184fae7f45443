// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ValidationSplit: Keras' validation_split for a bounded source. The last
// `fraction` of the source's records (in its order, before any shuffling)
// are validation records, the others training records; every epoch sees the
// same split.
//
// Cost: the constructor counts the records in one pass (then resets the
// source). The validation records are read once, after the first training
// pass, and kept in memory (fraction x the data set); the training view
// replays the source for each epoch.
//
// Not thread-safe: one consumer thread, like every BatchSource. The split
// holds a reference to `source`, which must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "streamml/data/batch.h"

namespace streamml::data {

class ValidationSplit {
 public:
  // Throws ConfigError unless 0 < fraction < 1, or when the split leaves
  // no training or no validation record ("--validation-split 0.1 of 5
  // records leaves no validation record").
  ValidationSplit(BatchSource& source, double fraction);
  ~ValidationSplit();
  ValidationSplit(const ValidationSplit&) = delete;
  ValidationSplit& operator=(const ValidationSplit&) = delete;

  // The first records (reset() replays them).
  BatchSource& training();
  // The last records (reset() replays them from memory).
  BatchSource& validation();

  int64_t training_records() const { return training_records_; }
  int64_t validation_records() const { return validation_records_; }

 private:
  class TrainingView;
  class ValidationView;
  friend class TrainingView;
  friend class ValidationView;

  BatchSource& source_;
  int64_t training_records_ = 0;
  int64_t validation_records_ = 0;
  std::unique_ptr<TrainingView> training_;
  std::unique_ptr<ValidationView> validation_;
};

}  // namespace streamml::data
