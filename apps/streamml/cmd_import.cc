// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml import MODEL.pt --decode SPEC --task T OUT.smlm: a TorchScript
// module (torch.jit.save) as a servable model file, with no training step
// (model/torchscript_export.h).
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "command.h"
#include "streamml/model/model.h"
#include "streamml/model/torchscript_export.h"

namespace streamml::cli {
namespace {

struct ImportOptions {
  std::string torchscript;
  std::string decode;
  std::string task;
  std::string out;
};

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<ImportOptions>();
  sub.add_option("MODEL", o->torchscript, "TorchScript file written by torch.jit.save")->required();
  sub.add_option("OUT", o->out, "streamml model file to write (.smlm)")->required();
  sub.add_option("--decode", o->decode, "Decoder spec of the records the model reads (docs/decoders.md)")->required();
  sub.add_option("--task", o->task, "binary, multiclass:K or regression")->required();
  set_examples(sub, {"streamml import net.pt --decode csv:columns=31,label=30 --task binary net.smlm",
                     "streamml import net.pt --decode csv:names=a+b+y,label=y --task regression net.smlm"});
  return [o] {
    model::Model m = model::import_torchscript(o->torchscript, o->decode, o->task);
    m.save(o->out);
    std::fprintf(stderr, "imported %s (task %s, %zu features) as %s\n", o->torchscript.c_str(),
                 m.task().to_string().c_str(), m.num_features(), o->out.c_str());
    return kExitOk;
  };
}

}  // namespace

STREAMML_REGISTER_COMMAND("import", "Make a TorchScript module a servable model file, without training", 66, setup);

}  // namespace streamml::cli
