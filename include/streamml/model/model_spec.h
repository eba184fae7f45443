// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ModelSpec: the architecture of a built-in model, parsed from a spec string.
//   "mlp:128,64"                           two hidden layers of 128 and 64 units
//   "mlp:128,64;activation=gelu;dropout=0.2"
//   "linear"  (same as "mlp:")             no hidden layer: a linear/logistic model
// activation is relu (default), tanh or gelu; dropout (default 0) is applied
// after every hidden activation during training. The output layer is sized by
// the Task. TorchScript modules are not described by a spec: see
// Model::from_torchscript.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace streamml::model {

enum class Activation { kRelu, kTanh, kGelu };

// Parses "relu|tanh|gelu"; throws ConfigError naming the value.
Activation parse_activation(std::string_view name);
std::string activation_name(Activation activation);

// A value type; thread-compatible.
struct ModelSpec {
  std::vector<int64_t> hidden;              // hidden layer widths, input to output
  Activation activation = Activation::kRelu;  // hidden-layer activation
  double dropout = 0.0;                     // dropout probability in [0, 1)

  // Canonical spec, e.g. "mlp:128,64;activation=relu;dropout=0".
  std::string to_string() const;

  friend bool operator==(const ModelSpec&, const ModelSpec&) = default;
};

// Parses a spec (see above). Throws ConfigError naming the spec and the part
// at fault (unknown architecture, width not a positive integer, unknown
// option, dropout outside [0, 1)).
ModelSpec parse_model_spec(std::string_view spec);

}  // namespace streamml::model
