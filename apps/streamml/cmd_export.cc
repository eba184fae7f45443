// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml export MODEL.smlm OUT.pt: the model as plain TorchScript that
// torch.jit.load opens, standardisation included (model/torchscript_export.h).
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "command.h"
#include "streamml/model/model.h"
#include "streamml/model/torchscript_export.h"

namespace streamml::cli {
namespace {

RunFunction setup(CLI::App& sub) {
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  sub.add_option("MODEL", *model, "streamml model file (.smlm)")->required();
  sub.add_option("OUT", *out, "TorchScript file to write (e.g. model.pt)")->required();
  set_examples(sub, {"streamml export model.smlm model.pt",
                     "streamml export demo-out/live_model.smlm live.pt"});
  return [model, out] {
    model::Model m = model::Model::load(*model);
    model::export_torchscript(m, *out);
    std::fprintf(stderr, "exported %s (task %s, %zu features) to %s\n", model->c_str(),
                 m.task().to_string().c_str(), m.num_features(), out->c_str());
    return kExitOk;
  };
}

}  // namespace

STREAMML_REGISTER_COMMAND("export", "Write a model file as TorchScript that torch.jit.load opens", 65, setup);

}  // namespace streamml::cli
