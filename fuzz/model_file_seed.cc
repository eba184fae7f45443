// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Writes the seed corpus of model_file_fuzz: small valid model files of each
// task and kind (an MLP with and without statistics, offsets and metadata, a
// linear model, a TorchScript module). Generated at fuzz time rather than
// committed, so the seeds always match the current file format.
// Usage: model_file_seed DIR
#include <torch/script.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "streamml/model/model.h"

namespace {

using streamml::model::Model;
using streamml::model::ModelConfig;
using streamml::model::Task;

void write(const std::string& dir, const std::string& name, const Model& model) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out << model.serialize();
  if (!out) {
    std::fprintf(stderr, "model_file_seed: cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

ModelConfig config(Task task, size_t num_features, const char* spec) {
  ModelConfig c;
  c.task = task;
  c.features.num_features = num_features;
  c.spec = streamml::model::parse_model_spec(spec);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: model_file_seed DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  write(dir, "linear-binary", Model::create(config(Task::binary(), 2, "linear")));

  auto mlp = Model::create(config(Task::multiclass(3), 3, "mlp:4;activation=gelu;dropout=0.1"));
  mlp.set_stats({{0.5f, 1.0f, -2.0f}, {1.0f, 2.0f, 0.5f}});
  mlp.set_offsets({{"clicks", 0, 42}, {"clicks", 1, 7}});
  mlp.set_metadata("trained_on", "seed");
  write(dir, "mlp-multiclass", mlp);

  ModelConfig named = config(Task::regression(), 2, "mlp:2,2;activation=tanh");
  named.features.feature_names = {"x", "y"};
  named.features.decoder_spec = "csv:names=x+y+z,label=z";
  write(dir, "mlp-regression", Model::create(named));

  torch::jit::Module module("Seed");
  module.register_parameter("w", torch::ones({2}), /*is_buffer=*/false);
  module.define("def forward(self, x):\n  return (x * self.w).sum(1)\n");
  const std::string script = dir + "/.seed-module.pt";
  module.save(script);
  write(dir, "torchscript-regression", Model::from_torchscript(script, config(Task::regression(), 2, "linear")));
  std::remove(script.c_str());
  return 0;
}
