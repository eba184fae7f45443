// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/torch_dataset.h"

#include "streamml/common/error.h"

namespace streamml::model {

namespace {
constexpr const char* kStateKey = "streamml_source_state";
}

TorchDataset::TorchDataset(std::shared_ptr<data::BatchSource> source) : source_(std::move(source)) {
  if (!source_) throw ConfigError("TorchDataset needs a data source");
}

torch::optional<torch::data::Example<>> TorchDataset::get_batch(size_t /*ignored*/) {
  started_ = true;
  std::optional<data::Batch> batch = source_->next();
  if (!batch) return torch::nullopt;
  const auto rows = static_cast<int64_t>(batch->size);
  // Tensors own copies: the batch is gone after this call.
  torch::Tensor x = torch::from_blob(batch->features.data(), {rows, static_cast<int64_t>(batch->num_features)},
                                     torch::kFloat32)
                        .clone();
  torch::Tensor y = batch->num_labels == 0
                        ? torch::empty({0})
                        : torch::from_blob(batch->labels.data(), {rows, static_cast<int64_t>(batch->num_labels)},
                                           torch::kFloat32)
                              .clone();
  return torch::data::Example<>(std::move(x), std::move(y));
}

void TorchDataset::reset() {
  // The loader resets before the first epoch too; only later calls replay.
  if (started_) source_->reset();
}

void TorchDataset::save(torch::serialize::OutputArchive& archive) const {
  archive.write(kStateKey, c10::IValue(source_->state()));
}

void TorchDataset::load(torch::serialize::InputArchive& archive) {
  c10::IValue state;
  if (!archive.try_read(kStateKey, state) || !state.isString()) {
    throw InputError("the archive holds no streamml data-source state");
  }
  source_->restore(state.toStringRef());
}

}  // namespace streamml::model
