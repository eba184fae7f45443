// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Model files whose header and checksum are valid but whose entries do not fit
// together (as a fuzzer or a buggy writer produces them): the reader must
// reject each with an InputError naming the file and the entry, before it
// allocates more than the file holds and before the first predict().
// The files are written here from the format documented in model_file.h.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/model/model.h"
#include "support/model_file_bytes.h"
#include "support/temp_dir.h"

namespace streamml::model {
namespace {

using testing::crc32;
using testing::model_file_of;
using testing::put_le;

c10::IValue strings(const std::vector<std::string>& items) {
  c10::List<std::string> list;
  for (const auto& item : items) list.push_back(item);
  return list;
}

// The entries of an MLP model file; each test damages one.
struct Entries {
  std::string task = "binary";
  std::string spec = "linear";
  int64_t num_features = 2;
  std::vector<std::string> feature_names;
  int64_t stored_inputs = 2;  // input width of the stored network's Linear layer
};

std::string model_file(const Entries& e) {
  torch::serialize::OutputArchive archive;
  archive.write("streamml_version", c10::IValue(std::string("test")));
  archive.write("task", c10::IValue(e.task));
  archive.write("kind", c10::IValue(std::string("mlp")));
  archive.write("model_spec", c10::IValue(e.spec));
  archive.write("num_features", c10::IValue(e.num_features));
  archive.write("feature_names", strings(e.feature_names));
  archive.write("decoder_spec", c10::IValue(std::string()));
  archive.write("standardize", c10::IValue(true));
  archive.write("offset_topics", strings({}));
  archive.write("offset_partitions", c10::IValue(c10::List<int64_t>()));
  archive.write("offset_offsets", c10::IValue(c10::List<int64_t>()));
  archive.write("metadata_keys", strings({}));
  archive.write("metadata_values", strings({}));
  torch::nn::Sequential network(torch::nn::Linear(e.stored_inputs, 1));
  torch::serialize::OutputArchive stored;
  network->save(stored);
  archive.write("network", stored);
  archive.write("optimizer_kind", c10::IValue(std::string()));

  return model_file_of(archive);
}

std::string input_error(const std::string& bytes) {
  try {
    Model::deserialize(bytes, "damaged.model");
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

TEST(ModelFileDamage, TheUndamagedFileLoadsAndPredicts) {
  Model model = Model::deserialize(model_file(Entries{}), "good.model");
  data::Batch batch;
  batch.size = 1;
  batch.num_features = 2;
  batch.features = {1.0f, 2.0f};
  batch.meta.resize(1);
  EXPECT_EQ(model.predict(batch).size, 1u);
}

// Module::load used to accept a stored weight of any shape: the file
// loaded and the first predict() failed inside LibTorch.
TEST(ModelFileDamage, NetworkWeightsOfAnotherShapeAreRejectedAtLoad) {
  Entries wider;
  wider.stored_inputs = 3;
  std::string message = input_error(model_file(wider));
  EXPECT_NE(message.find("damaged.model"), std::string::npos) << message;
  EXPECT_NE(message.find("network parameter"), std::string::npos) << message;
}

// num_features and the spec used to size the network before anything was
// checked: a few damaged bytes made the reader allocate gigabytes.
TEST(ModelFileDamage, ANetworkLargerThanTheFileIsRejectedBeforeAllocation) {
  Entries huge;
  huge.num_features = int64_t{1} << 40;
  std::string message = input_error(model_file(huge));
  EXPECT_NE(message.find("damaged.model"), std::string::npos) << message;
  EXPECT_NE(message.find("parameters"), std::string::npos) << message;

  Entries deep;
  deep.spec = "mlp:16777216,16777216";
  message = input_error(model_file(deep));
  EXPECT_NE(message.find("parameters"), std::string::npos) << message;
}

TEST(ModelFileDamage, FeatureNamesThatDoNotMatchTheFeatureCountAreRejected) {
  Entries names;
  names.feature_names = {"only_one"};
  const std::string message = input_error(model_file(names));
  EXPECT_NE(message.find("1 feature names for 2 features"), std::string::npos) << message;
}

TEST(ModelFileDamage, InvalidTaskAndSpecNameTheEntry) {
  Entries task;
  task.task = "multiclass:1";
  EXPECT_NE(input_error(model_file(task)).find("multiclass:1"), std::string::npos);
  Entries spec;
  spec.spec = "mlp:0";
  EXPECT_NE(input_error(model_file(spec)).find("mlp:0"), std::string::npos);
}

// A TorchScript module whose debug information is damaged loads (LibTorch
// parses it lazily) and used to fail only in the next serialize() or clone()
// with a LibTorch error. Found by fuzz/model_file_fuzz; the damage is the
// fuzzer's (9 bytes inside the nested archive's code/__torch__.py.debug_pkl).
TEST(ModelFileDamage, TorchScriptWithDamagedDebugInformationIsRejectedAtLoad) {
  testing::TempDir dir;
  const std::string script = dir.file("module.pt");
  torch::jit::Module module("Damaged");
  module.register_parameter("w", torch::ones({2}), /*is_buffer=*/false);
  module.define("def forward(self, x):\n  return (x * self.w).sum(1)\n");
  module.save(script);
  ModelConfig config;
  config.task = Task::regression();
  config.features.num_features = 2;
  std::string file = Model::from_torchscript(script, config).serialize();
  ASSERT_NO_THROW(Model::deserialize(file, "good.model").serialize());

  // The stored entry: "<name>" "FB" <u16 padding length> <padding> <data>.
  const size_t name = file.find("code/__torch__.py.debug_pkl");
  ASSERT_NE(name, std::string::npos);
  size_t data = name + std::string("code/__torch__.py.debug_pkl").size();
  ASSERT_EQ(file.substr(data, 2), "FB");
  data += 4 + static_cast<unsigned char>(file[data + 2]) + 256 * static_cast<unsigned char>(file[data + 3]);
  ASSERT_LT(data + 31, file.size());
  file.replace(data + 22, 9, "libpython");
  const std::string payload = file.substr(24);
  std::string header = file.substr(0, 20);
  put_le<uint32_t>(header, crc32(payload));
  const std::string message = input_error(header + payload);
  EXPECT_NE(message.find("damaged.model"), std::string::npos) << message;
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
}

}  // namespace
}  // namespace streamml::model
