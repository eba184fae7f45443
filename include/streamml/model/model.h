// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Model: a trainable LibTorch model plus everything needed to use it later
// (task, feature spec, standardisation statistics, optimizer state, the Kafka
// offsets it was trained up to, free-form metadata). LibTorch stays behind a
// pimpl: including this header costs no LibTorch compile time.
//
// Two kinds of network:
//   * built-in MLP from a ModelSpec ("mlp:128,64;activation=gelu;dropout=0.1");
//   * any TorchScript module saved from Python with torch.jit.save, taking a
//     float tensor [batch, num_features] and returning [batch] or
//     [batch, output_size] (logits for classification, values for regression).
//     It can be used for inference and trained further (its parameters() go
//     to the optimizer).
//
// The model file format (header and payload entries) is documented in
// model/model_file.h, with the functions that recognise model files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/data/batch.h"
#include "streamml/kafka/types.h"
#include "streamml/model/feature_stats.h"
#include "streamml/model/model_file.h"
#include "streamml/model/model_spec.h"
#include "streamml/model/predictions.h"
#include "streamml/model/task.h"

namespace streamml::model {

enum class ModelKind { kMlp, kTorchScript };

// Whether inputs are standardised with FeatureStats before the network.
enum class Standardize {
  kAuto,  // on for built-in models, off for TorchScript (it owns its preprocessing)
  kOn,
  kOff,
};

// The input side of a model: what the records look like.
struct FeatureSpec {
  size_t num_features = 0;                 // input width (>= 1)
  std::vector<std::string> feature_names;  // empty, or one per feature
  std::string decoder_spec;                // data::Decoder spec of the records, or ""
};

struct ModelConfig {
  Task task;                                // what to predict
  FeatureSpec features;                     // input description
  ModelSpec spec;                           // architecture of built-in models
  Standardize standardize = Standardize::kAuto;  // input standardisation
  uint64_t seed = 42;                       // seeds weight initialisation
};

namespace detail {
struct ModelImpl;
}  // namespace detail

// Not thread-safe: predict() switches the network to eval mode and training
// mutates weights. Use one Model per thread (clone()) or an external lock.
// Movable, not copyable.
class Model {
 public:
  // A new built-in MLP with freshly initialised weights (deterministic for a
  // given config.seed). Throws ConfigError for num_features == 0, a
  // feature_names size mismatch, or an invalid spec.
  static Model create(const ModelConfig& config);

  // Loads a TorchScript module saved with torch.jit.save. config.spec is
  // ignored. Throws InputError naming the file when it is missing or not a
  // TorchScript archive, and when a probe forward pass on zeros fails or
  // returns a shape that does not fit config.task.
  static Model from_torchscript(const std::string& path, const ModelConfig& config);

  // Loads a model file written by save(). Throws InputError naming the file
  // when it is missing, truncated, corrupt, or of a newer format version.
  static Model load(const std::string& path);
  // The same from bytes (e.g. a model published to a Kafka topic); `name`
  // appears in error messages.
  static Model deserialize(std::string_view bytes, const std::string& name = "<memory>");

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // Writes the model file atomically (temporary file + rename). Throws
  // InputError naming the file when it cannot be written.
  void save(const std::string& path) const;
  std::string serialize() const;
  // An independent copy (weights, optimizer state, metadata).
  Model clone() const;

  // Predicts every row of `batch` in eval mode without gradients. Throws
  // InputError naming expected vs found feature counts and the first
  // record's location, or the first record with a non-finite feature.
  Predictions predict(const data::Batch& batch);

  const Task& task() const;
  ModelKind kind() const;
  // The ModelSpec of built-in models (default-constructed for TorchScript).
  const ModelSpec& spec() const;
  const FeatureSpec& features() const;
  size_t num_features() const;
  // Number of scalar parameters of the network.
  int64_t num_parameters() const;
  // One line per layer, for logs and `streamml info`.
  std::string summary() const;

  bool standardizes() const;
  bool has_stats() const;
  const FeatureStats& stats() const;
  // Throws ConfigError when stats.size() != num_features().
  void set_stats(FeatureStats stats);

  // The next offset to consume per topic-partition, after the records the
  // model was trained on (empty for models trained from files or memory).
  const std::vector<kafka::TopicPartitionOffset>& offsets() const;
  void set_offsets(std::vector<kafka::TopicPartitionOffset> offsets);
  // Raises the stored offset of each record's topic-partition to
  // record.offset + 1 (records with partition < 0 are ignored).
  void advance_offsets(const std::vector<data::RecordMeta>& records);

  const std::map<std::string, std::string>& metadata() const;
  void set_metadata(const std::string& key, const std::string& value);

  // The optimizer stored with the model ("" when none).
  std::string optimizer_kind() const;
  // The streamml version that wrote the file this model was loaded from
  // ("" for models created in this process).
  const std::string& saved_by_version() const;

 private:
  explicit Model(std::unique_ptr<detail::ModelImpl> impl);
  friend detail::ModelImpl& detail_impl(Model& model);

  std::unique_ptr<detail::ModelImpl> impl_;
};

// For the train layer only (src/model/model_impl.h): the LibTorch internals.
detail::ModelImpl& detail_impl(Model& model);

}  // namespace streamml::model
