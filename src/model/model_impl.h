// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// LibTorch internals of model::Model, shared with the train layer (which
// drives the network and owns the optimizer choice). Private header: include
// it only from src/model and src/train translation units.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/blas_threads.h"
#include "streamml/model/model.h"

namespace streamml::model::detail {

// Not thread-safe (see Model).
struct ModelImpl {
  ModelImpl() { limit_blas_threads(); }

  Task task;
  ModelKind kind = ModelKind::kMlp;
  ModelSpec spec;
  FeatureSpec features;
  bool standardize = true;
  FeatureStats stats;  // empty until computed or set
  torch::Tensor mean;     // [num_features] float, undefined without stats
  torch::Tensor inv_std;  // [num_features] float, undefined without stats
  std::vector<kafka::TopicPartitionOffset> offsets;
  std::map<std::string, std::string> metadata;
  std::string saved_by_version;  // streamml version that wrote the loaded file, or ""

  torch::nn::Sequential mlp{nullptr};         // kMlp
  std::optional<torch::jit::Module> script;   // kTorchScript

  // Optimizer: the train layer creates it (it knows the kinds and options);
  // save() stores its state. `pending_optimizer_state` holds the serialized
  // state read from a file until the train layer creates a matching optimizer.
  std::string optimizer_kind;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::string pending_optimizer_state;

  // Builds the MLP of `spec` for `features` and `task` (weights from the
  // global LibTorch generator).
  void build_mlp();
  void set_stats(FeatureStats new_stats);

  // Checks the width and finiteness of `batch` (InputError naming the record).
  void check_features(const data::Batch& batch) const;
  // The batch as a float tensor [size, num_features] (a view: no copy).
  static torch::Tensor input_tensor(const data::Batch& batch);
  // Standardises (when enabled and stats exist) and runs the network.
  // Returns float [N, output_size] logits (classification) or values.
  torch::Tensor forward(const torch::Tensor& input);
  void set_training(bool on);
  // Predictions from the output of forward() (probabilities for
  // classification, values for regression).
  Predictions to_predictions(const torch::Tensor& output) const;
  std::vector<torch::Tensor> parameters();

  std::string serialize() const;
  static std::unique_ptr<ModelImpl> deserialize(std::string_view bytes, const std::string& name);
};

}  // namespace streamml::model::detail
