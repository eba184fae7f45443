// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Models across the language boundary: a streamml model file (.smlm, see
// model_file.h) as a plain TorchScript file that torch.jit.load opens, and a
// TorchScript file as a servable streamml model without a training step.
// `streamml export` / `streamml import` and the Python module call these.
// No LibTorch types here.
#pragma once

#include <string>

#include "streamml/model/model.h"

namespace streamml::model {

// Writes `model` as a TorchScript archive at `path` (atomically). Its
// forward(x) takes raw float features [N, num_features] and returns what
// streamml's network returns for them after streamml's own standardisation:
// logits [N, K] (multiclass), a logit [N, 1] (binary), values [N, 1]
// (regression); streamml's probabilities are softmax / sigmoid of it. The
// archive's extra file "streamml.json" holds the task, decoder spec and
// feature names. Throws ConfigError for a model whose network cannot be
// exported, InputError naming the file when it cannot be written.
void export_torchscript(Model& model, const std::string& path);

// A streamml model that serves the TorchScript module at `path` as is
// (Model::from_torchscript, standardisation off), described by a decoder
// spec (data/decoder.h: its features and names) and a task spec
// ("binary", "multiclass:K", "regression"). Throws ConfigError for a bad
// spec, InputError naming the file when it is not TorchScript or does not
// fit the features and task. Save it with Model::save().
Model import_torchscript(const std::string& path, const std::string& decoder_spec, const std::string& task_spec);

}  // namespace streamml::model
