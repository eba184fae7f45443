// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// TorchDataset: any streamml BatchSource (KafkaDataset, FileSource,
// InMemorySource) as a LibTorch stateful dataset, for code written against
// torch::data:
//
//   auto source = std::make_shared<streamml::data::KafkaDataset>(options);
//   auto loader = torch::data::make_data_loader(
//       streamml::model::TorchDataset(source),
//       torch::data::DataLoaderOptions().batch_size(1).workers(0));
//   for (auto& example : *loader) { ... example.data [B, F], example.target [B, L] ... }
//
// It is a *stateful* dataset: the loader shares it instead of copying it into
// workers, so the source does its prefetching in one place (KafkaDataset's own
// background thread); use workers(0). Batches are the source's batches (its
// batch size; the loader's batch_size request is ignored). save()/load()
// write and read the source's iterator state (its Kafka offsets), so a
// checkpoint resumes at the next unconsumed record.
//
// This header includes LibTorch: include it only from code that uses torch.
// Thread-safety: as the underlying source (one thread).
#pragma once

#include <torch/data.h>
#include <torch/serialize.h>

#include <memory>

#include "streamml/data/batch.h"

namespace streamml::model {

class TorchDataset
    : public torch::data::datasets::StatefulDataset<TorchDataset, torch::data::Example<>, size_t> {
 public:
  explicit TorchDataset(std::shared_ptr<data::BatchSource> source);

  // The next batch as {data [B, F] float32, target [B, L] float32 (or an
  // empty tensor when unlabeled)}; nullopt at the end of the epoch.
  torch::optional<torch::data::Example<>> get_batch(size_t ignored) override;
  torch::optional<size_t> size() const override { return torch::nullopt; }
  // Starts the next epoch (the loader calls it at every new iteration).
  void reset() override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  data::BatchSource& source() { return *source_; }

 private:
  std::shared_ptr<data::BatchSource> source_;
  bool started_ = false;
};

}  // namespace streamml::model
