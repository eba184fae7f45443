// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// TorchScript interop: Python (Debian python3-torch) scripts and saves a
// module plus inputs and its outputs; C++ loads it, must reproduce the
// outputs, and can train it further.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/model/model.h"
#include "streamml/train/trainer.h"

namespace streamml::train {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

constexpr const char* kScript = R"PY(
import sys
try:
    import torch
except ImportError:
    sys.exit(77)  # the test skips

out = sys.argv[1]
torch.manual_seed(0)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 16)
        self.out = torch.nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hidden(x))).squeeze(1)

module = torch.jit.script(Net())
module.save(out + "/net.pt")

x = torch.randn(256, 4)
y = (x[:, 0] - 2 * x[:, 1] + 0.5 * x[:, 2] > 0).float()
with torch.no_grad():
    p = torch.sigmoid(module(x))
with open(out + "/data.txt", "w") as f:
    for row, label, prob in zip(x.tolist(), y.tolist(), p.tolist()):
        f.write(" ".join(repr(v) for v in row) + " %r %r\n" % (label, prob))
)PY";

class TorchScriptInterop : public ::testing::Test {
 protected:
  // Python runs once per suite (importing torch takes seconds).
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "streamml_ts_XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    // "import torch" failing (exit 77) is the one reason to skip; any other
    // failure of the script fails the tests.
    std::ofstream(dir_ + "/make.py") << kScript;
    const std::string command = std::string(kPython) + " " + dir_ + "/make.py " + dir_;
    const int status = std::system(command.c_str());
    has_torch_ = !(WIFEXITED(status) && WEXITSTATUS(status) == 77);
    script_ok_ = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    if (!has_torch_) GTEST_SKIP() << kPython << " cannot import torch (python3-torch missing)";
    ASSERT_TRUE(script_ok_) << "the Python script failed";
    std::ifstream in(dir_ + "/data.txt");
    float a, b, c, d, label, prob;
    while (in >> a >> b >> c >> d >> label >> prob) {
      features_.insert(features_.end(), {a, b, c, d});
      labels_.push_back(label);
      python_probs_.push_back(prob);
    }
    ASSERT_EQ(labels_.size(), 256u);
  }

  model::ModelConfig config(model::Task task = model::Task::binary()) const {
    model::ModelConfig c;
    c.task = task;
    c.features.num_features = 4;
    return c;
  }
  data::Batch batch() const {
    data::Batch b;
    b.size = labels_.size();
    b.num_features = 4;
    b.num_labels = 1;
    b.features = features_;
    b.labels = labels_;
    for (size_t i = 0; i < b.size; ++i) {
      data::RecordMeta m;
      m.topic = "ts";
      m.offset = static_cast<int64_t>(i);
      b.meta.push_back(m);
    }
    return b;
  }

  static inline std::string dir_;
  static inline bool has_torch_ = false;
  static inline bool script_ok_ = false;
  std::vector<float> features_, labels_, python_probs_;
};

TEST_F(TorchScriptInterop, PredictsLikePythonAndTrainsFurther) {
  model::Model m = model::Model::from_torchscript(dir_ + "/net.pt", config());
  EXPECT_EQ(m.kind(), model::ModelKind::kTorchScript);
  EXPECT_FALSE(m.standardizes());  // the module owns its preprocessing
  EXPECT_EQ(m.num_parameters(), 4 * 16 + 16 + 16 + 1);
  model::Predictions p = m.predict(batch());
  ASSERT_EQ(p.values.size(), python_probs_.size());
  for (size_t i = 0; i < p.size; ++i) EXPECT_NEAR(p.values[i], python_probs_[i], 1e-5) << i;

  auto source = data::InMemorySource::from_batch(batch(), {.batch_size = 32, .shuffle = true});
  const double loss_before = evaluate(m, source).at("loss");
  source.reset();
  TrainOptions options;
  options.epochs = 20;
  options.learning_rate = 1e-2;
  History h = fit(m, source, options);
  source.reset();
  const double loss_after = evaluate(m, source).at("loss");
  EXPECT_LT(loss_after, 0.5 * loss_before) << loss_before << " -> " << loss_after;
  EXPECT_GT(h.epochs.back().at("accuracy"), 0.9);

  // The trained TorchScript model survives the model file.
  const std::string path = dir_ + "/trained.model";
  m.save(path);
  model::Model loaded = model::Model::load(path);
  EXPECT_EQ(loaded.kind(), model::ModelKind::kTorchScript);
  EXPECT_EQ(loaded.optimizer_kind(), "adam");
  EXPECT_EQ(loaded.predict(batch()).values, m.predict(batch()).values);
}

TEST_F(TorchScriptInterop, MismatchedModulesAreInputErrorsNamingTheFile) {
  try {
    model::Model::from_torchscript(dir_ + "/net.pt", config(model::Task::multiclass(3)));
    FAIL() << "a [N] output cannot serve multiclass:3";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("net.pt"), std::string::npos) << e.what();
  }
  model::ModelConfig wrong_width = config();
  wrong_width.features.num_features = 7;
  EXPECT_THROW(model::Model::from_torchscript(dir_ + "/net.pt", wrong_width), InputError);
  std::ofstream(dir_ + "/junk.pt") << "not a zip archive";
  try {
    model::Model::from_torchscript(dir_ + "/junk.pt", config());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.pt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model::Model::from_torchscript(dir_ + "/missing.pt", config()), InputError);
}

}  // namespace
}  // namespace streamml::train
