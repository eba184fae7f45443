// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/model.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "streamml/common/error.h"
#include "unit/model/synthetic.h"

extern char** environ;

#include "support/temp_dir.h"

namespace streamml::model {
namespace {

namespace fs = std::filesystem;
using streamml::testing::make_dataset;
using streamml::testing::SyntheticTask;
using streamml::testing::to_batch;

using streamml::testing::TempDir;

ModelConfig config_for(Task task, size_t num_features, const std::string& spec = "mlp:8,4") {
  ModelConfig c;
  c.task = task;
  c.features.num_features = num_features;
  c.spec = parse_model_spec(spec);
  return c;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string input_error(auto&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

// A model with stats, offsets, metadata: every field of the file is used.
Model rich_model() {
  ModelConfig c = config_for(Task::multiclass(3), 6, "mlp:8;activation=tanh;dropout=0.1");
  c.features.feature_names = {"a", "b", "c", "d", "e", "f"};
  c.features.decoder_spec = "csv:label=y";
  Model m = Model::create(c);
  auto d = make_dataset(SyntheticTask::kMulticlass3, 64, 7);
  FeatureStatsAccumulator acc(6);
  acc.add(to_batch(d));
  m.set_stats(acc.finish());
  m.set_offsets({{"events", 0, 100}, {"events", 1, 57}});
  m.set_metadata("owner", "tests");
  return m;
}

TEST(Model, PredictsPerTask) {
  auto d = make_dataset(SyntheticTask::kMulticlass3, 10, 1);
  data::Batch batch = to_batch(d);

  Model binary = Model::create(config_for(Task::binary(), 6));
  Predictions pb = binary.predict(batch);
  ASSERT_EQ(pb.size, 10u);
  ASSERT_EQ(pb.values.size(), 10u);
  for (size_t i = 0; i < pb.size; ++i) {
    EXPECT_GE(pb.values[i], 0.0f);
    EXPECT_LE(pb.values[i], 1.0f);
    EXPECT_EQ(pb.classes[i], pb.values[i] >= 0.5f ? 1 : 0);
  }

  Model multi = Model::create(config_for(Task::multiclass(3), 6));
  Predictions pm = multi.predict(batch);
  ASSERT_EQ(pm.values.size(), 30u);
  for (size_t i = 0; i < pm.size; ++i) {
    float sum = pm.values[i * 3] + pm.values[i * 3 + 1] + pm.values[i * 3 + 2];
    EXPECT_NEAR(sum, 1.0f, 1e-5);
    EXPECT_GE(pm.classes[i], 0);
    EXPECT_LT(pm.classes[i], 3);
  }

  Model reg = Model::create(config_for(Task::regression(), 6, "linear"));
  Predictions pr = reg.predict(batch);
  EXPECT_EQ(pr.values.size(), 10u);
  EXPECT_TRUE(pr.classes.empty());
  EXPECT_EQ(reg.num_parameters(), 7);  // 6 weights + bias
}

TEST(Model, SameSeedSameWeights) {
  auto batch = to_batch(make_dataset(SyntheticTask::kBinary, 5, 3));
  Model a = Model::create(config_for(Task::binary(), 6));
  Model b = Model::create(config_for(Task::binary(), 6));
  EXPECT_EQ(a.predict(batch).values, b.predict(batch).values);
  ModelConfig other = config_for(Task::binary(), 6);
  other.seed = 7;
  EXPECT_NE(Model::create(other).predict(batch).values, a.predict(batch).values);
}

TEST(Model, FeatureCountMismatchNamesExpectedFoundAndRecord) {
  Model m = Model::create(config_for(Task::binary(), 6));
  data::Batch batch = to_batch(make_dataset(SyntheticTask::kBinary, 3, 1, /*num_features=*/4), "clicks");
  batch.meta[0].partition = 2;
  batch.meta[0].offset = 1234;
  std::string message = input_error([&] { m.predict(batch); });
  EXPECT_NE(message.find("expects 6 features"), std::string::npos) << message;
  EXPECT_NE(message.find("found 4"), std::string::npos) << message;
  EXPECT_NE(message.find("clicks:2:1234"), std::string::npos) << message;
}

TEST(Model, NonFiniteFeatureNamesTheRecord) {
  ModelConfig c = config_for(Task::binary(), 6);
  c.features.feature_names = {"a", "b", "c", "d", "e", "f"};
  Model m = Model::create(c);
  data::Batch batch = to_batch(make_dataset(SyntheticTask::kBinary, 3, 1));
  batch.features[2 * 6 + 4] = std::nanf("");
  std::string message = input_error([&] { m.predict(batch); });
  EXPECT_NE(message.find("'e'"), std::string::npos) << message;
  EXPECT_NE(message.find("synthetic:0:2"), std::string::npos) << message;
}

TEST(Model, RejectsInvalidConfig) {
  EXPECT_THROW(Model::create(config_for(Task::binary(), 0)), ConfigError);
  ModelConfig c = config_for(Task::binary(), 3);
  c.features.feature_names = {"only_one"};
  EXPECT_THROW(Model::create(c), ConfigError);
  Model m = Model::create(config_for(Task::binary(), 3));
  EXPECT_THROW(m.set_stats(FeatureStats{{1, 2}, {1, 1}}), ConfigError);
}

TEST(ModelFile, RoundTripKeepsEverythingAndPredictsIdentically) {
  TempDir dir;
  Model m = rich_model();
  auto batch = to_batch(make_dataset(SyntheticTask::kMulticlass3, 50, 11));
  const Predictions before = m.predict(batch);
  m.save(dir.file("m.model"));

  Model loaded = Model::load(dir.file("m.model"));
  const Predictions after = loaded.predict(batch);
  EXPECT_EQ(before.values, after.values);
  EXPECT_EQ(before.classes, after.classes);
  EXPECT_EQ(loaded.task(), Task::multiclass(3));
  EXPECT_EQ(loaded.kind(), ModelKind::kMlp);
  EXPECT_EQ(loaded.spec(), m.spec());
  EXPECT_EQ(loaded.features().feature_names, m.features().feature_names);
  EXPECT_EQ(loaded.features().decoder_spec, "csv:label=y");
  EXPECT_EQ(loaded.stats(), m.stats());
  EXPECT_EQ(loaded.offsets(), m.offsets());
  EXPECT_EQ(loaded.metadata().at("owner"), "tests");
  EXPECT_EQ(loaded.saved_by_version(), "0.1.0");
  EXPECT_TRUE(loaded.standardizes());

  // In-memory serialisation and clone agree with the file.
  EXPECT_EQ(Model::deserialize(m.serialize()).predict(batch).values, before.values);
  EXPECT_EQ(m.clone().predict(batch).values, before.values);
}

// Run by ModelFile.NewProcessGivesIdenticalPredictions in a child process
// (ctest leaves the ChildProcess suite out: tests/CMakeLists.txt).
TEST(ChildProcess, ModelFilePredicts) {
  const char* model_path = std::getenv("STREAMML_TEST_CHILD_MODEL");
  const char* out_path = std::getenv("STREAMML_TEST_CHILD_OUT");
  if (model_path == nullptr || out_path == nullptr) GTEST_SKIP() << "only run as a child process";
  Model m = Model::load(model_path);
  Predictions p = m.predict(to_batch(make_dataset(SyntheticTask::kMulticlass3, 50, 11)));
  std::ofstream out(out_path);
  out.precision(9);
  for (float v : p.values) out << v << "\n";
}

TEST(ModelFile, NewProcessGivesIdenticalPredictions) {
  TempDir dir;
  Model m = rich_model();
  m.save(dir.file("m.model"));
  Predictions p = m.predict(to_batch(make_dataset(SyntheticTask::kMulticlass3, 50, 11)));

  const std::string model_env = "STREAMML_TEST_CHILD_MODEL=" + dir.file("m.model");
  const std::string out_env = "STREAMML_TEST_CHILD_OUT=" + dir.file("child.txt");
  std::vector<std::string> env_strings = {model_env, out_env};
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=ChildProcess.ModelFilePredicts";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  std::ifstream in(dir.file("child.txt"));
  std::vector<float> child;
  for (float v; in >> v;) child.push_back(v);
  ASSERT_EQ(child.size(), p.values.size());
  for (size_t i = 0; i < child.size(); ++i) EXPECT_EQ(child[i], p.values[i]) << i;
}

TEST(ModelFile, MissingFileIsInputErrorNamingIt) {
  std::string message = input_error([] { Model::load("/nonexistent/dir/model.bin"); });
  EXPECT_NE(message.find("/nonexistent/dir/model.bin"), std::string::npos) << message;
}

TEST(ModelFile, TruncatedCorruptAndForeignFilesAreInputErrors) {
  TempDir dir;
  const std::string path = dir.file("m.model");
  rich_model().save(path);
  const std::string good = read_all(path);

  for (size_t keep : {size_t{0}, size_t{10}, size_t{24}, good.size() / 2, good.size() - 1}) {
    write_all(path, good.substr(0, keep));
    std::string message = input_error([&] { Model::load(path); });
    EXPECT_NE(message.find(path), std::string::npos) << keep << ": " << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << keep << ": " << message;
  }

  for (size_t at : {size_t{30}, good.size() / 3, good.size() / 2, good.size() - 5}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x5A);
    write_all(path, bad);
    std::string message = input_error([&] { Model::load(path); });
    EXPECT_NE(message.find(path), std::string::npos) << at << ": " << message;
    EXPECT_NE(message.find("corrupt"), std::string::npos) << at << ": " << message;
  }

  write_all(path, "label,x\n1,2\n3,4\n5,6\n7,8\n9,10\n");
  EXPECT_NE(input_error([&] { Model::load(path); }).find("not a streamml model file"),
            std::string::npos);
}

TEST(ModelFile, NewerFormatVersionIsRejectedNamingFileAndVersion) {
  TempDir dir;
  const std::string path = dir.file("m.model");
  rich_model().save(path);
  std::string bytes = read_all(path);
  bytes[8] = static_cast<char>(kModelFormatVersion + 1);  // little-endian u32 at offset 8
  write_all(path, bytes);
  std::string message = input_error([&] { Model::load(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("format version 2"), std::string::npos) << message;
  EXPECT_NE(message.find("upgrade"), std::string::npos) << message;
}

TEST(ModelFile, SaveToUnwritablePathIsInputError) {
  Model m = Model::create(config_for(Task::binary(), 2));
  EXPECT_NE(input_error([&] { m.save("/nonexistent/dir/m.model"); }).find("/nonexistent/dir"),
            std::string::npos);
}

TEST(Model, AdvanceOffsetsKeepsTheNextOffsetPerPartition) {
  Model m = Model::create(config_for(Task::binary(), 2));
  using streamml::testing::record_at;
  std::vector<data::RecordMeta> records = {record_at("t", 0, 5), record_at("t", 1, 9),
                                           record_at("t", 0, 3), record_at("file.csv", -1, 2)};
  m.advance_offsets(records);
  ASSERT_EQ(m.offsets().size(), 2u);
  EXPECT_EQ(m.offsets()[0], (kafka::TopicPartitionOffset{"t", 0, 6}));
  EXPECT_EQ(m.offsets()[1], (kafka::TopicPartitionOffset{"t", 1, 10}));
}

TEST(Model, SummaryDescribesLayers) {
  Model m = Model::create(config_for(Task::multiclass(4), 5, "mlp:7;activation=gelu"));
  std::string s = m.summary();
  EXPECT_NE(s.find("multiclass:4"), std::string::npos) << s;
  EXPECT_NE(s.find("Linear(in_features=5, out_features=7"), std::string::npos) << s;
  EXPECT_NE(s.find("GELU"), std::string::npos) << s;
  EXPECT_EQ(m.num_parameters(), 5 * 7 + 7 + 7 * 4 + 4);
}

}  // namespace
}  // namespace streamml::model
