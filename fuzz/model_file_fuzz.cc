// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The model-file reader (model::Model::deserialize, which Model::load uses).
// Each input is used twice:
//  1. as a file, as given: the header checks (magic, version, length, CRC);
//     the seeds (valid files from model_file_seed) load and are used;
//  2. as the entry values of a file that is written here with a valid
//     archive, header and CRC (task, kind, spec, num_features, names,
//     statistics, offsets, metadata, the network's layer shapes, the
//     optimizer entries, with wrong types and missing entries too), so that
//     every check behind LibTorch's archive parser is reached.
// A read either throws InputError or gives a model that predicts, summarises
// and round-trips through serialize().
//
// LibTorch's own archive parser is not fuzzed through damaged archive bytes:
// it is not hardened against crafted input (such archives crash it inside
// torch::jit::ScriptTypeParser, or make its unpickler allocate whatever string
// length they claim), and a damaged file never reaches it because the
// payload's CRC is checked first. Loading a crafted model file is as unsafe as
// loading any crafted TorchScript file.
#include <fuzzer/FuzzedDataProvider.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/batch.h"
#include "streamml/model/model.h"
#include "support/model_file_bytes.h"

namespace {

using streamml::testing::model_file_of;

// A small valid TorchScript module, as the bytes torch::jit::Module::save writes.
const std::string& script_bytes() {
  static const std::string bytes = [] {
    torch::jit::Module module("Fuzz");
    module.register_parameter("w", torch::ones({2}), /*is_buffer=*/false);
    module.define("def forward(self, x):\n  return (x * self.w).sum(1)\n");
    std::ostringstream out;
    module.save(out);
    return out.str();
  }();
  return bytes;
}

torch::Tensor bytes_tensor(const std::string& bytes) {
  return torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())}, torch::kUInt8)
      .clone();
}

std::string pick(FuzzedDataProvider& in, std::initializer_list<const char*> usual) {
  const size_t choice = in.ConsumeIntegralInRange<size_t>(0, usual.size());
  if (choice < usual.size()) return usual.begin()[choice];
  return in.ConsumeRandomLengthString(32);
}

c10::IValue strings(FuzzedDataProvider& in, size_t max) {
  c10::List<std::string> list;
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, max);
  for (size_t i = 0; i < n; ++i) list.push_back(in.ConsumeRandomLengthString(16));
  return list;
}

c10::IValue ints(FuzzedDataProvider& in, size_t max) {
  c10::List<int64_t> list;
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, max);
  for (size_t i = 0; i < n; ++i) list.push_back(in.ConsumeIntegral<int64_t>());
  return list;
}

// Writes entry `key` from the input: usually `value`, sometimes a value of
// the wrong type, sometimes nothing.
void write(FuzzedDataProvider& in, torch::serialize::OutputArchive& archive, const std::string& key,
           const c10::IValue& value) {
  switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: return;                                                                  // missing
    case 1: archive.write(key, c10::IValue(in.ConsumeIntegral<int64_t>())); return;  // wrong type
    case 2: archive.write(key, c10::IValue(in.ConsumeRandomLengthString(8))); return;
    default: archive.write(key, value);
  }
}

std::string structured_file(FuzzedDataProvider& in) {
  torch::serialize::OutputArchive archive;
  write(in, archive, "streamml_version", c10::IValue(in.ConsumeRandomLengthString(8)));
  write(in, archive, "task", c10::IValue(pick(in, {"binary", "regression", "multiclass:3", "multiclass:2"})));
  const std::string kind = pick(in, {"mlp", "mlp", "torchscript"});
  write(in, archive, "kind", c10::IValue(kind));
  write(in, archive, "model_spec",
        c10::IValue(pick(in, {"linear", "mlp:4", "mlp:3,2;activation=tanh", "mlp:2;dropout=0.5"})));
  const int64_t num_features =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(1, 4) : in.ConsumeIntegral<int64_t>();
  write(in, archive, "num_features", c10::IValue(num_features));
  write(in, archive, "feature_names", strings(in, 5));
  write(in, archive, "decoder_spec", c10::IValue(in.ConsumeRandomLengthString(32)));
  write(in, archive, "standardize", c10::IValue(in.ConsumeBool()));
  if (in.ConsumeBool()) {
    const auto n_mean = in.ConsumeIntegralInRange<int64_t>(0, 5);
    const auto n_std = in.ConsumeBool() ? n_mean : in.ConsumeIntegralInRange<int64_t>(0, 5);
    archive.write("stats_mean", torch::full({n_mean}, in.ConsumeFloatingPoint<float>()));
    write(in, archive, "stats_std",
          torch::full({n_std}, in.ConsumeFloatingPoint<float>()).to(in.ConsumeBool() ? torch::kFloat : torch::kDouble));
  }
  write(in, archive, "offset_topics", strings(in, 3));
  write(in, archive, "offset_partitions", ints(in, 3));
  write(in, archive, "offset_offsets", ints(in, 3));
  write(in, archive, "metadata_keys", strings(in, 3));
  write(in, archive, "metadata_values", strings(in, 3));
  if (kind == "torchscript") {
    write(in, archive, "torchscript", bytes_tensor(script_bytes()));
  } else if (in.ConsumeIntegralInRange<int>(0, 15) != 0) {
    torch::nn::Sequential network;
    const int layers = in.ConsumeIntegralInRange<int>(1, 3);
    for (int i = 0; i < layers; ++i) {
      network->push_back(torch::nn::Linear(in.ConsumeIntegralInRange<int64_t>(1, 6),
                                           in.ConsumeIntegralInRange<int64_t>(1, 6)));
      if (in.ConsumeBool()) network->push_back(torch::nn::ReLU());
    }
    torch::serialize::OutputArchive stored;
    network->save(stored);
    archive.write("network", stored);
  }
  const std::string optimizer = pick(in, {"", "", "sgd", "adam"});
  write(in, archive, "optimizer_kind", c10::IValue(optimizer));
  if (!optimizer.empty()) write(in, archive, "optimizer", bytes_tensor(in.ConsumeRandomLengthString(64)));
  return model_file_of(archive);
}

void use(streamml::model::Model& model) {
  const size_t n = model.num_features();
  if (n > 4096) {
    // The reader checks that an MLP's network fits in the file, so a large
    // num_features cannot come with an MLP. A TorchScript module's input width
    // is not stored in the file: its num_features is only a declaration, and a
    // batch of that width would be the harness's allocation, not the reader's.
    if (model.kind() == streamml::model::ModelKind::kMlp) std::abort();
    return;
  }
  streamml::data::Batch batch;
  batch.size = 2;
  batch.num_features = n;
  batch.features.assign(2 * n, 0.5f);
  batch.meta.resize(2);
  try {
    if (model.predict(batch).size != 2) std::abort();
  } catch (const streamml::Error&) {
    // e.g. a TorchScript module whose output does not fit the stored task: named, not a crash
  }
  (void)model.summary();
  (void)model.num_parameters();
  const std::string again = model.serialize();
  (void)streamml::model::Model::deserialize(again, "<round trip>");  // must not throw
}

void read(std::string_view bytes) {
  try {
    auto model = streamml::model::Model::deserialize(bytes, "fuzz");
    use(model);
  } catch (const streamml::InputError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read(std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  read(structured_file(in));
  return 0;
}
