// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/batch.h"

#include <algorithm>
#include <cstddef>

#include "streamml/common/error.h"

namespace streamml::data {

void BatchSource::restore(const std::string& state) {
  if (!state.empty()) throw ConfigError("this data source cannot restore an iterator state");
}

void Batch::append(const Batch& other) {
  if (other.size == 0) return;
  if (size == 0 && features.empty()) {
    num_features = other.num_features;
    num_labels = other.num_labels;
  }
  if (other.num_features != num_features || other.num_labels != num_labels) {
    throw InputError("cannot append a batch of " + std::to_string(other.num_features) +
                     " features / " + std::to_string(other.num_labels) + " labels to one of " +
                     std::to_string(num_features) + " / " + std::to_string(num_labels));
  }
  features.insert(features.end(), other.features.begin(), other.features.end());
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
  meta.insert(meta.end(), other.meta.begin(), other.meta.end());
  payloads.insert(payloads.end(), other.payloads.begin(), other.payloads.end());
  size += other.size;
}

void Batch::append_row(const Batch& other, size_t row) {
  if (size == 0 && features.empty()) {
    num_features = other.num_features;
    num_labels = other.num_labels;
  }
  features.insert(features.end(), other.features.begin() + static_cast<std::ptrdiff_t>(row * other.num_features),
                  other.features.begin() + static_cast<std::ptrdiff_t>((row + 1) * other.num_features));
  labels.insert(labels.end(), other.labels.begin() + static_cast<std::ptrdiff_t>(row * other.num_labels),
                other.labels.begin() + static_cast<std::ptrdiff_t>((row + 1) * other.num_labels));
  if (row < other.meta.size()) meta.push_back(other.meta[row]);
  if (row < other.payloads.size()) payloads.push_back(other.payloads[row]);
  ++size;
}

Batch Batch::slice(size_t begin, size_t end) const {
  Batch out;
  out.num_features = num_features;
  out.num_labels = num_labels;
  end = std::min(end, size);
  for (size_t row = begin; row < end; ++row) out.append_row(*this, row);
  return out;
}

}  // namespace streamml::data
