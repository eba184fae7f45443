// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/in_memory_source.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

#include "streamml/common/error.h"

namespace streamml::data {

InMemorySource::InMemorySource(std::vector<float> features, size_t num_features,
                               std::vector<float> labels, size_t num_labels,
                               InMemorySourceOptions options, std::vector<RecordMeta> meta)
    : features_(std::move(features)),
      labels_(std::move(labels)),
      meta_(std::move(meta)),
      num_features_(num_features),
      num_labels_(num_labels),
      num_rows_(0),
      options_(std::move(options)) {
  if (options_.batch_size == 0) throw ConfigError("InMemorySource: batch_size must be >= 1");
  if (num_features_ == 0) throw ConfigError("InMemorySource: num_features must be >= 1");
  if (features_.size() % num_features_ != 0) {
    throw ConfigError("InMemorySource: " + std::to_string(features_.size()) +
                      " feature values is not a multiple of num_features " +
                      std::to_string(num_features_));
  }
  num_rows_ = features_.size() / num_features_;
  if (labels_.size() != num_rows_ * num_labels_) {
    throw ConfigError("InMemorySource: expected " + std::to_string(num_rows_ * num_labels_) +
                      " label values (" + std::to_string(num_rows_) + " rows x " +
                      std::to_string(num_labels_) + " labels), got " +
                      std::to_string(labels_.size()));
  }
  if (!meta_.empty() && meta_.size() != num_rows_) {
    throw ConfigError("InMemorySource: expected " + std::to_string(num_rows_) +
                      " record metadata entries, got " + std::to_string(meta_.size()));
  }
  if (meta_.empty()) {
    meta_.resize(num_rows_);
    for (size_t i = 0; i < num_rows_; ++i) {
      meta_[i].topic = "memory";
      meta_[i].offset = static_cast<int64_t>(i);
    }
  }
  if (options_.feature_names.empty()) {
    feature_names_.reserve(num_features_);
    for (size_t i = 0; i < num_features_; ++i) feature_names_.push_back("f" + std::to_string(i));
  } else if (options_.feature_names.size() != num_features_) {
    throw ConfigError("InMemorySource: feature_names has " +
                      std::to_string(options_.feature_names.size()) + " names for " +
                      std::to_string(num_features_) + " features");
  } else {
    feature_names_ = options_.feature_names;
  }
  build_order();
}

InMemorySource InMemorySource::from_batch(const Batch& batch, InMemorySourceOptions options) {
  return InMemorySource(batch.features, batch.num_features, batch.labels, batch.num_labels,
                        std::move(options), batch.meta);
}

void InMemorySource::build_order() {
  order_.resize(num_rows_);
  std::iota(order_.begin(), order_.end(), size_t{0});
  if (options_.shuffle && num_rows_ > 1) {
    // Fisher-Yates with a portable bounded draw (std::uniform_int_distribution
    // differs between standard libraries).
    std::mt19937_64 rng(options_.seed + epoch_);
    for (size_t i = num_rows_ - 1; i > 0; --i) {
      const uint64_t bound = static_cast<uint64_t>(i) + 1;
      const uint64_t limit = std::mt19937_64::max() - (std::mt19937_64::max() % bound);
      uint64_t draw;
      do {
        draw = rng();
      } while (draw >= limit);
      std::swap(order_[i], order_[static_cast<size_t>(draw % bound)]);
    }
  }
  position_ = 0;
}

std::optional<Batch> InMemorySource::next() {
  const size_t remaining = num_rows_ - position_;
  if (remaining == 0) return std::nullopt;
  const size_t rows = std::min(options_.batch_size, remaining);
  if (options_.drop_last && rows < options_.batch_size) {
    position_ = num_rows_;
    return std::nullopt;
  }
  Batch batch;
  batch.size = rows;
  batch.num_features = num_features_;
  batch.num_labels = num_labels_;
  batch.features.resize(rows * num_features_);
  batch.labels.resize(rows * num_labels_);
  batch.meta.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    const size_t src = order_[position_ + r];
    std::copy_n(features_.begin() + static_cast<std::ptrdiff_t>(src * num_features_),
                num_features_, batch.features.begin() + static_cast<std::ptrdiff_t>(r * num_features_));
    if (num_labels_ > 0) {
      std::copy_n(labels_.begin() + static_cast<std::ptrdiff_t>(src * num_labels_), num_labels_,
                  batch.labels.begin() + static_cast<std::ptrdiff_t>(r * num_labels_));
    }
    batch.meta.push_back(meta_[src]);
  }
  position_ += rows;
  return batch;
}

void InMemorySource::reset() {
  ++epoch_;
  build_order();
}

void InMemorySource::seek_epoch(uint64_t epoch) {
  epoch_ = epoch;
  build_order();
}

size_t InMemorySource::batches_per_epoch() const {
  if (options_.drop_last) return num_rows_ / options_.batch_size;
  return (num_rows_ + options_.batch_size - 1) / options_.batch_size;
}

}  // namespace streamml::data
