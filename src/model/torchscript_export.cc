// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/torchscript_export.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "model/model_impl.h"
#include "streamml/common/error.h"
#include "streamml/data/decoder.h"

namespace streamml::model {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string describe(const Model& model) {
  std::string names;
  for (const auto& n : model.features().feature_names) names += (names.empty() ? "" : ",") + json_string(n);
  return fmt::format(R"({{"task":{},"decoder_spec":{},"num_features":{},"feature_names":[{}]}})",
                     json_string(model.task().to_string()), json_string(model.features().decoder_spec),
                     model.num_features(), names);
}

}  // namespace

void export_torchscript(Model& model, const std::string& path) {
  detail::ModelImpl& impl = detail_impl(model);
  torch::NoGradGuard no_grad;
  torch::jit::Module out("StreammlModel");
  std::string body;
  if (impl.standardize && impl.mean.defined()) {
    out.register_buffer("mean", impl.mean.detach().clone());
    out.register_buffer("inv_std", impl.inv_std.detach().clone());
    body += "    x = (x - self.mean) * self.inv_std\n";
  }
  if (impl.kind == ModelKind::kMlp) {
    int layer = 0;
    for (const auto& child : impl.mlp->children()) {
      if (auto* linear = child->as<torch::nn::Linear>()) {
        out.register_parameter(fmt::format("weight_{}", layer), linear->weight.detach().clone(), false);
        out.register_parameter(fmt::format("bias_{}", layer), linear->bias.detach().clone(), false);
        body += fmt::format("    x = torch.linear(x, self.weight_{0}, self.bias_{0})\n", layer);
        ++layer;
      } else if (child->as<torch::nn::ReLU>()) {
        body += "    x = torch.relu(x)\n";
      } else if (child->as<torch::nn::Tanh>()) {
        body += "    x = torch.tanh(x)\n";
      } else if (child->as<torch::nn::GELU>()) {
        body += "    x = torch.gelu(x)\n";
      } else if (child->as<torch::nn::Dropout>()) {
        // Identity at inference.
      } else {
        throw ConfigError("cannot export layer " + child->name() + " of the model to TorchScript");
      }
    }
  } else {
    torch::jit::Module inner = impl.script->clone();
    inner.eval();
    out.register_module("net", inner);
    body += "    x = self.net.forward(x)\n";
  }
  try {
    out.define("def forward(self, x: Tensor) -> Tensor:\n" + body + "    return x\n");
  } catch (const c10::Error& e) {
    const std::string what = e.what();
    throw Error("cannot export the model to TorchScript: " + what.substr(0, what.find('\n')));
  }
  out.eval();
  const std::string tmp = path + ".tmp";
  try {
    out.save(tmp, {{"streamml.json", describe(model)}});
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    throw InputError(fmt::format("cannot write TorchScript file '{}': {}", path, e.what()));
  }
}

Model import_torchscript(const std::string& path, const std::string& decoder_spec, const std::string& task_spec) {
  std::unique_ptr<data::Decoder> decoder = data::make_decoder(decoder_spec);
  ModelConfig config;
  config.task = parse_task(task_spec);
  config.features.num_features = decoder->num_features();
  config.features.feature_names = decoder->feature_names();
  config.features.decoder_spec = decoder->spec();
  config.standardize = Standardize::kOff;
  Model model = Model::from_torchscript(path, config);
  model.set_metadata("imported_from", std::filesystem::path(path).filename().string());
  return model;
}

}  // namespace streamml::model
