// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/model.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "model/model_impl.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/model/model_file.h"
#include "streamml/version.h"

namespace streamml::model {
namespace detail {
namespace {

std::string bytes_of(const torch::serialize::OutputArchive& archive) {
  std::string out;
  const_cast<torch::serialize::OutputArchive&>(archive).save_to(
      [&out](const void* data, size_t size) -> size_t {
        out.append(static_cast<const char*>(data), size);
        return size;
      });
  return out;
}

torch::Tensor bytes_tensor(const std::string& bytes) {
  return torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())},
                          torch::kUInt8)
      .clone();
}

std::string tensor_bytes(const torch::Tensor& tensor) {
  torch::Tensor t = tensor.contiguous();
  return std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

std::vector<std::string> read_strings(torch::serialize::InputArchive& archive,
                                      const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  std::vector<std::string> out;
  for (const c10::IValue& item : value.toListRef()) out.push_back(item.toStringRef());
  return out;
}

std::vector<int64_t> read_ints(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toIntVector();
}

c10::IValue string_list(const std::vector<std::string>& items) {
  c10::List<std::string> list;
  for (const std::string& item : items) list.push_back(item);
  return c10::IValue(list);
}

c10::IValue int_list(const std::vector<int64_t>& items) {
  c10::List<int64_t> list;
  for (int64_t item : items) list.push_back(item);
  return c10::IValue(list);
}

std::string first_line(const char* what) {
  std::string text(what);
  size_t nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

std::string shape_of(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) out += (i ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}

// torch::jit::load parses parts of an archive (the debug information) only
// when the module is saved again: saving it once at load makes a damaged
// archive fail there, as an InputError naming the file, and not in a later
// save() or clone() with a LibTorch error (found by fuzz/model_file_fuzz).
void check_saves(torch::jit::Module& module) {
  std::ostringstream out;
  module.save(out);
}

// The float parameters of the MLP a spec describes must all be in the
// payload: checked before build_mlp() allocates them, so that a damaged
// num_features or spec cannot make the reader allocate more than the file.
void check_network_size(const ModelImpl& impl, size_t payload_size) {
  double parameters = 0;
  double in = static_cast<double>(impl.features.num_features);
  for (int64_t width : impl.spec.hidden) {
    parameters += (in + 1) * static_cast<double>(width);
    in = static_cast<double>(width);
  }
  parameters += (in + 1) * static_cast<double>(impl.task.output_size());
  if (parameters * sizeof(float) > static_cast<double>(payload_size)) {
    throw InputError(fmt::format("{} features and spec {} need {:.0f} parameters, more than its {} bytes hold",
                                 impl.features.num_features, impl.spec.to_string(), parameters, payload_size));
  }
}

// Loads the stored weights into impl.mlp (built from the spec). Module::load
// replaces each tensor with the stored one whatever its shape or type, so
// both are checked against the spec's: a mismatch fails here, naming the
// parameter, rather than in the first predict().
void load_network(ModelImpl& impl, torch::serialize::InputArchive& network) {
  std::vector<std::pair<std::vector<int64_t>, torch::Dtype>> expected;
  for (const auto& item : impl.mlp->named_parameters()) {
    expected.emplace_back(item.value().sizes().vec(), item.value().scalar_type());
  }
  impl.mlp->load(network);
  size_t i = 0;
  for (const auto& item : impl.mlp->named_parameters()) {
    const torch::Tensor& p = item.value();
    if (i >= expected.size() || !p.defined() || p.layout() != torch::kStrided ||
        p.sizes().vec() != expected[i].first || p.scalar_type() != expected[i].second) {
      throw InputError(fmt::format("network parameter '{}' does not fit spec {} and {} features",
                                   item.key(), impl.spec.to_string(), impl.features.num_features));
    }
    ++i;
  }
}

}  // namespace

void ModelImpl::build_mlp() {
  mlp = torch::nn::Sequential();
  int64_t in = static_cast<int64_t>(features.num_features);
  for (int64_t width : spec.hidden) {
    mlp->push_back(torch::nn::Linear(in, width));
    switch (spec.activation) {
      case Activation::kRelu: mlp->push_back(torch::nn::ReLU()); break;
      case Activation::kTanh: mlp->push_back(torch::nn::Tanh()); break;
      case Activation::kGelu: mlp->push_back(torch::nn::GELU()); break;
    }
    if (spec.dropout > 0.0) mlp->push_back(torch::nn::Dropout(spec.dropout));
    in = width;
  }
  mlp->push_back(torch::nn::Linear(in, task.output_size()));
}

void ModelImpl::set_stats(FeatureStats new_stats) {
  if (new_stats.empty()) {
    stats = {};
    mean = torch::Tensor();
    inv_std = torch::Tensor();
    return;
  }
  if (new_stats.mean.size() != features.num_features ||
      new_stats.std.size() != features.num_features) {
    throw ConfigError(fmt::format("feature statistics have {} means and {} stds for a model of {} features",
                                  new_stats.mean.size(), new_stats.std.size(),
                                  features.num_features));
  }
  stats = std::move(new_stats);
  const auto n = static_cast<int64_t>(features.num_features);
  mean = torch::from_blob(stats.mean.data(), {n}, torch::kFloat).clone();
  torch::Tensor sd = torch::from_blob(stats.std.data(), {n}, torch::kFloat).clone();
  inv_std = 1.0 / torch::where(sd > 1e-12, sd, torch::ones_like(sd));
}

void ModelImpl::check_features(const data::Batch& batch) const {
  auto where = [&batch](size_t row) {
    return row < batch.meta.size() ? batch.meta[row].location() : fmt::format("row {}", row);
  };
  if (batch.num_features != features.num_features) {
    throw InputError(fmt::format("feature count mismatch: the model expects {} features, found {} at record {}",
                                 features.num_features, batch.num_features, where(0)));
  }
  if (batch.features.size() != batch.size * batch.num_features) {
    throw InputError(fmt::format("malformed batch starting at record {}: {} feature values for {} rows of {}",
                                 where(0), batch.features.size(), batch.size, batch.num_features));
  }
  for (size_t r = 0; r < batch.size; ++r) {
    const float* row = batch.row(r);
    for (size_t f = 0; f < batch.num_features; ++f) {
      if (!std::isfinite(row[f])) {
        const std::string name =
            f < features.feature_names.size() ? features.feature_names[f] : "f" + std::to_string(f);
        throw InputError(
            fmt::format("feature '{}' is {} at record {}", name, row[f], where(r)));
      }
    }
  }
}

torch::Tensor ModelImpl::input_tensor(const data::Batch& batch) {
  return torch::from_blob(const_cast<float*>(batch.features.data()),
                          {static_cast<int64_t>(batch.size), static_cast<int64_t>(batch.num_features)},
                          torch::kFloat);
}

torch::Tensor ModelImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = input;
  if (standardize && mean.defined()) x = (x - mean) * inv_std;
  torch::Tensor out;
  if (kind == ModelKind::kMlp) {
    out = mlp->forward(x);
  } else {
    c10::IValue result;
    try {
      result = script->forward({x});
    } catch (const std::exception& e) {
      // The interpreter's message spans many lines (the TorchScript source);
      // its first line says what failed.
      const std::string what = e.what();
      throw Error(fmt::format("TorchScript module failed on a [{}, {}] batch: {}", x.size(0), x.size(1),
                              what.substr(0, what.find('\n'))));
    }
    if (!result.isTensor()) {
      throw Error(fmt::format("TorchScript module returned {} instead of a tensor",
                              result.tagKind()));
    }
    out = result.toTensor();
  }
  if (out.scalar_type() != torch::kFloat) out = out.to(torch::kFloat);
  const int64_t rows = input.size(0);
  const int64_t width = task.output_size();
  if (out.dim() == 1 && width == 1 && out.size(0) == rows) return out.view({rows, 1});
  if (out.dim() == 2 && out.size(0) == rows && out.size(1) == width) return out;
  throw Error(fmt::format("the network returned shape {} for {} rows; task {} needs [{}, {}]",
                          shape_of(out), rows, task.to_string(), rows, width));
}

void ModelImpl::set_training(bool on) {
  if (kind == ModelKind::kMlp) {
    mlp->train(on);
  } else {
    script->train(on);
  }
}

Predictions ModelImpl::to_predictions(const torch::Tensor& output) const {
  auto to_vector = [](const torch::Tensor& t) {
    torch::Tensor c = t.to(torch::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  auto to_classes = [](const torch::Tensor& t) {
    torch::Tensor c = t.to(torch::kLong).contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  };
  torch::Tensor out = output.detach();
  Predictions result;
  result.task = task;
  result.size = static_cast<size_t>(out.size(0));
  switch (task.kind) {
    case TaskKind::kBinary: {
      torch::Tensor p = torch::sigmoid(out.reshape({-1}));
      result.values = to_vector(p);
      result.classes = to_classes(p >= 0.5);
      break;
    }
    case TaskKind::kMulticlass: {
      torch::Tensor p = torch::softmax(out, /*dim=*/1);
      result.values = to_vector(p);
      result.classes = to_classes(p.argmax(/*dim=*/1));
      break;
    }
    case TaskKind::kRegression: result.values = to_vector(out.reshape({-1})); break;
  }
  return result;
}

std::vector<torch::Tensor> ModelImpl::parameters() {
  if (kind == ModelKind::kMlp) return mlp->parameters();
  std::vector<torch::Tensor> params;
  for (const torch::Tensor& p : script->parameters()) params.push_back(p);
  return params;
}

std::string ModelImpl::serialize() const {
  torch::serialize::OutputArchive archive;
  archive.write("streamml_version", c10::IValue(std::string(kVersion)));
  archive.write("task", c10::IValue(task.to_string()));
  archive.write("kind", c10::IValue(std::string(kind == ModelKind::kMlp ? "mlp" : "torchscript")));
  archive.write("model_spec", c10::IValue(kind == ModelKind::kMlp ? spec.to_string() : std::string()));
  archive.write("num_features", c10::IValue(static_cast<int64_t>(features.num_features)));
  archive.write("feature_names", string_list(features.feature_names));
  archive.write("decoder_spec", c10::IValue(features.decoder_spec));
  archive.write("standardize", c10::IValue(standardize));
  if (!stats.empty()) {
    archive.write("stats_mean", mean);
    archive.write("stats_std", torch::from_blob(const_cast<float*>(stats.std.data()),
                                                {static_cast<int64_t>(stats.std.size())},
                                                torch::kFloat).clone());
  }
  std::vector<std::string> topics;
  std::vector<int64_t> partitions, positions;
  for (const kafka::TopicPartitionOffset& tpo : offsets) {
    topics.push_back(tpo.topic);
    partitions.push_back(tpo.partition);
    positions.push_back(tpo.offset);
  }
  archive.write("offset_topics", string_list(topics));
  archive.write("offset_partitions", int_list(partitions));
  archive.write("offset_offsets", int_list(positions));
  std::vector<std::string> keys, values;
  for (const auto& [key, value] : metadata) {
    keys.push_back(key);
    values.push_back(value);
  }
  archive.write("metadata_keys", string_list(keys));
  archive.write("metadata_values", string_list(values));
  if (kind == ModelKind::kMlp) {
    torch::serialize::OutputArchive network;
    mlp->save(network);
    archive.write("network", network);
  } else {
    std::ostringstream out;
    script->save(out);
    archive.write("torchscript", bytes_tensor(out.str()));
  }
  std::string optimizer_state = pending_optimizer_state;
  if (optimizer) {
    torch::serialize::OutputArchive state;
    optimizer->save(state);
    optimizer_state = bytes_of(state);
  }
  archive.write("optimizer_kind", c10::IValue(optimizer_state.empty() ? std::string() : optimizer_kind));
  if (!optimizer_state.empty()) archive.write("optimizer", bytes_tensor(optimizer_state));

  std::string payload = bytes_of(archive);
  std::string file = encode_model_file_header(payload);
  file += payload;
  return file;
}

std::unique_ptr<ModelImpl> ModelImpl::deserialize(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kModelFileHeaderSize) {
    throw InputError(fmt::format("model file '{}' is truncated: {} bytes, shorter than the {}-byte header",
                                 name, bytes.size(), kModelFileHeaderSize));
  }
  if (!has_model_file_magic(bytes)) {
    throw InputError(fmt::format("'{}' is not a streamml model file (bad magic)", name));
  }
  const ModelFileHeader header = decode_model_file_header(bytes);
  const uint32_t version = header.format_version;
  if (version == 0) throw InputError(fmt::format("model file '{}' has invalid format version 0", name));
  if (version > kModelFormatVersion) {
    throw InputError(fmt::format(
        "model file '{}' has format version {}, newer than the versions this streamml {} reads "
        "(up to {}): upgrade streamml",
        name, version, kVersion, kModelFormatVersion));
  }
  const uint64_t length = header.payload_length;
  if (bytes.size() - kModelFileHeaderSize < length) {
    throw InputError(fmt::format("model file '{}' is truncated: {} payload bytes of {}", name,
                                 bytes.size() - kModelFileHeaderSize, length));
  }
  if (bytes.size() - kModelFileHeaderSize > length) {
    throw InputError(fmt::format("model file '{}' is corrupt: {} unexpected bytes after the payload",
                                 name, bytes.size() - kModelFileHeaderSize - length));
  }
  std::string_view payload = bytes.substr(kModelFileHeaderSize);
  if (model_file_crc32(payload) != header.payload_crc) {
    throw InputError(fmt::format("model file '{}' is corrupt: checksum mismatch", name));
  }

  auto impl = std::make_unique<ModelImpl>();
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(payload.data(), payload.size());
    impl->task = parse_task(read_string(archive, "task"));
    const std::string kind = read_string(archive, "kind");
    if (kind != "mlp" && kind != "torchscript") {
      throw InputError(fmt::format("unknown model kind '{}'", kind));
    }
    impl->kind = kind == "mlp" ? ModelKind::kMlp : ModelKind::kTorchScript;
    const int64_t num_features = read_int(archive, "num_features");
    if (num_features <= 0) throw InputError(fmt::format("invalid num_features {}", num_features));
    impl->features.num_features = static_cast<size_t>(num_features);
    impl->features.feature_names = read_strings(archive, "feature_names");
    if (!impl->features.feature_names.empty() &&
        impl->features.feature_names.size() != impl->features.num_features) {
      throw InputError(fmt::format("{} feature names for {} features", impl->features.feature_names.size(),
                                   num_features));
    }
    impl->features.decoder_spec = read_string(archive, "decoder_spec");
    {
      c10::IValue value;
      archive.read("standardize", value);
      impl->standardize = value.toBool();
    }
    torch::Tensor mean, sd;
    if (archive.try_read("stats_mean", mean) && archive.try_read("stats_std", sd)) {
      mean = mean.contiguous().to(torch::kFloat);
      sd = sd.contiguous().to(torch::kFloat);
      FeatureStats stats;
      stats.mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
      stats.std.assign(sd.data_ptr<float>(), sd.data_ptr<float>() + sd.numel());
      impl->set_stats(std::move(stats));
    }
    const auto topics = read_strings(archive, "offset_topics");
    const auto partitions = read_ints(archive, "offset_partitions");
    const auto positions = read_ints(archive, "offset_offsets");
    if (topics.size() != partitions.size() || topics.size() != positions.size()) {
      throw InputError("offset lists of different lengths");
    }
    for (size_t i = 0; i < topics.size(); ++i) {
      impl->offsets.push_back({topics[i], static_cast<int32_t>(partitions[i]), positions[i]});
    }
    const auto keys = read_strings(archive, "metadata_keys");
    const auto values = read_strings(archive, "metadata_values");
    if (keys.size() != values.size()) throw InputError("metadata lists of different lengths");
    for (size_t i = 0; i < keys.size(); ++i) impl->metadata[keys[i]] = values[i];

    if (impl->kind == ModelKind::kMlp) {
      impl->spec = parse_model_spec(read_string(archive, "model_spec"));
      check_network_size(*impl, payload.size());
      impl->build_mlp();
      torch::serialize::InputArchive network;
      archive.read("network", network);
      load_network(*impl, network);
    } else {
      torch::Tensor blob;
      archive.read("torchscript", blob);
      std::istringstream in(tensor_bytes(blob));
      impl->script = torch::jit::load(in);
      check_saves(*impl->script);
    }
    impl->optimizer_kind = read_string(archive, "optimizer_kind");
    if (!impl->optimizer_kind.empty()) {
      torch::Tensor blob;
      archive.read("optimizer", blob);
      impl->pending_optimizer_state = tensor_bytes(blob);
    }
    impl->saved_by_version = read_string(archive, "streamml_version");
  } catch (const InputError& e) {
    throw InputError(fmt::format("model file '{}' is corrupt: {}", name, e.what()));
  } catch (const ConfigError& e) {
    throw InputError(fmt::format("model file '{}' is corrupt: {}", name, e.what()));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("model file '{}' is corrupt: {}", name, first_line(e.what())));
  }
  return impl;
}

}  // namespace detail

using detail::ModelImpl;

namespace {

void validate_features(const FeatureSpec& features) {
  if (features.num_features == 0) throw ConfigError("a model needs at least one feature (num_features is 0)");
  if (!features.feature_names.empty() && features.feature_names.size() != features.num_features) {
    throw ConfigError(fmt::format("{} feature names given for {} features",
                                  features.feature_names.size(), features.num_features));
  }
}

}  // namespace

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

ModelImpl& detail_impl(Model& model) { return *model.impl_; }

Model Model::create(const ModelConfig& config) {
  validate_features(config.features);
  auto impl = std::make_unique<ModelImpl>();
  impl->task = config.task;
  impl->kind = ModelKind::kMlp;
  impl->spec = config.spec;
  impl->features = config.features;
  impl->standardize = config.standardize != Standardize::kOff;
  torch::manual_seed(config.seed);
  impl->build_mlp();
  return Model(std::move(impl));
}

Model Model::from_torchscript(const std::string& path, const ModelConfig& config) {
  validate_features(config.features);
  auto impl = std::make_unique<ModelImpl>();
  impl->task = config.task;
  impl->kind = ModelKind::kTorchScript;
  impl->features = config.features;
  impl->standardize = config.standardize == Standardize::kOn;
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      throw InputError(fmt::format("cannot open TorchScript file '{}': {}", path, std::strerror(errno)));
    }
  }
  try {
    impl->script = torch::jit::load(path);
    detail::check_saves(*impl->script);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("'{}' is not a loadable TorchScript module: {}", path,
                                 detail::first_line(e.what())));
  }
  try {
    torch::NoGradGuard no_grad;
    impl->set_training(false);
    impl->forward(torch::zeros({2, static_cast<int64_t>(config.features.num_features)}));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("TorchScript module '{}' does not fit {} features and task {}: {}",
                                 path, config.features.num_features, config.task.to_string(),
                                 detail::first_line(e.what())));
  }
  return Model(std::move(impl));
}

Model Model::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot open model file '{}': {}", path, std::strerror(errno)));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("cannot read model file '{}'", path));
  return deserialize(contents.str(), path);
}

Model Model::deserialize(std::string_view bytes, const std::string& name) {
  return Model(ModelImpl::deserialize(bytes, name));
}

std::string Model::serialize() const { return impl_->serialize(); }

void Model::save(const std::string& path) const {
  const std::string bytes = serialize();
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(fmt::format("cannot write model file '{}': {}", tmp, std::strerror(errno)));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw InputError(fmt::format("cannot write model file '{}': {}", tmp, std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw InputError(fmt::format("cannot write model file '{}': {}", path, std::strerror(err)));
  }
}

Model Model::clone() const {
  return deserialize(serialize(), "<clone>");
}

Predictions Model::predict(const data::Batch& batch) {
  impl_->check_features(batch);
  if (batch.size == 0) {
    Predictions empty;
    empty.task = impl_->task;
    return empty;
  }
  torch::NoGradGuard no_grad;
  impl_->set_training(false);
  torch::Tensor out;
  try {
    out = impl_->forward(ModelImpl::input_tensor(batch));
  } catch (const c10::Error& e) {
    throw Error(fmt::format("prediction failed for the batch starting at record {}: {}",
                            batch.meta.empty() ? std::string("?") : batch.meta[0].location(),
                            detail::first_line(e.what())));
  }
  Predictions result = impl_->to_predictions(out);
  return result;
}

const Task& Model::task() const { return impl_->task; }
ModelKind Model::kind() const { return impl_->kind; }
const ModelSpec& Model::spec() const { return impl_->spec; }
const FeatureSpec& Model::features() const { return impl_->features; }
size_t Model::num_features() const { return impl_->features.num_features; }

int64_t Model::num_parameters() const {
  int64_t total = 0;
  for (const torch::Tensor& p : impl_->parameters()) total += p.numel();
  return total;
}

std::string Model::summary() const {
  std::string out = fmt::format("task {}, {} features, {} parameters, standardize {}{}\n",
                                impl_->task.to_string(), impl_->features.num_features,
                                num_parameters(), impl_->standardize ? "on" : "off",
                                impl_->standardize && !has_stats() ? " (no statistics yet)" : "");
  if (impl_->kind == ModelKind::kMlp) {
    out += impl_->spec.to_string() + "\n";
    for (const auto& item : impl_->mlp->named_children()) {
      std::ostringstream layer;
      item.value()->pretty_print(layer);
      out += "  " + item.key() + ": " + layer.str() + "\n";
    }
  } else {
    out += "torchscript module " + impl_->script->type()->name()->qualifiedName() + "\n";
  }
  return out;
}

bool Model::standardizes() const { return impl_->standardize; }
bool Model::has_stats() const { return !impl_->stats.empty(); }
const FeatureStats& Model::stats() const { return impl_->stats; }
void Model::set_stats(FeatureStats stats) { impl_->set_stats(std::move(stats)); }

const std::vector<kafka::TopicPartitionOffset>& Model::offsets() const { return impl_->offsets; }
void Model::set_offsets(std::vector<kafka::TopicPartitionOffset> offsets) {
  impl_->offsets = std::move(offsets);
}

void Model::advance_offsets(const std::vector<data::RecordMeta>& records) {
  for (const data::RecordMeta& record : records) {
    if (record.partition < 0 || record.offset < 0) continue;
    bool found = false;
    for (kafka::TopicPartitionOffset& tpo : impl_->offsets) {
      if (tpo.topic == record.topic && tpo.partition == record.partition) {
        tpo.offset = std::max(tpo.offset, record.offset + 1);
        found = true;
        break;
      }
    }
    if (!found) impl_->offsets.push_back({record.topic, record.partition, record.offset + 1});
  }
}

const std::map<std::string, std::string>& Model::metadata() const { return impl_->metadata; }
void Model::set_metadata(const std::string& key, const std::string& value) {
  impl_->metadata[key] = value;
}

std::string Model::optimizer_kind() const { return impl_->optimizer_kind; }
const std::string& Model::saved_by_version() const { return impl_->saved_by_version; }

}  // namespace streamml::model
