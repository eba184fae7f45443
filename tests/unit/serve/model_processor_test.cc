// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/serve/model_processor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"
#include "unit/serve/test_model.h"
#include "support/prediction_json.h"

namespace streamml::serve {
namespace {

namespace fs = std::filesystem;

class ModelProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("streamml_serve_unit_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "model.smlm").string();
    testing::make_serve_model(7).save(path_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Decodes CSV payloads with the processor's decoder into a batch.
  data::Batch decode(const Processor& p, const std::vector<std::string>& payloads) {
    auto decoder = data::make_decoder(p.decoder_spec());
    data::Batch b;
    b.num_features = decoder->num_features();
    for (size_t i = 0; i < payloads.size(); ++i) {
      b.features.resize((b.size + 1) * b.num_features);
      auto err = decoder->decode(payloads[i], b.features.data() + b.size * b.num_features, nullptr);
      EXPECT_FALSE(err) << *err;
      data::RecordMeta m;
      m.topic = "in";
      m.partition = 0;
      m.offset = static_cast<int64_t>(i);
      m.has_key = true;
      m.key = "k" + std::to_string(i);
      b.meta.push_back(m);
      b.payloads.push_back(payloads[i]);
      ++b.size;
    }
    return b;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(ModelProcessorTest, ServesWithoutTheTrainingLabelAndMatchesPredict) {
  auto p = make_model_processor({path_, OutputFormat::kJson, ""});
  EXPECT_EQ(data::make_decoder(p->decoder_spec())->num_labels(), 0u);
  std::vector<std::string> payloads;
  for (int i = 0; i < 20; ++i) payloads.push_back(testing::serve_row(i));
  data::Batch batch = decode(*p, payloads);
  std::vector<ProcessResult> results;
  p->process(batch, results);
  ASSERT_EQ(results.size(), 20u);

  model::Model reference = model::Model::load(path_);
  std::vector<int> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(i);
  model::Predictions expected = reference.predict(testing::serve_batch(rows));
  for (size_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(results[i].output) << results[i].error;
    EXPECT_EQ(results[i].output->value, model::format_json(expected, i));
    EXPECT_EQ(results[i].output->key, "k" + std::to_string(i));
  }
}

TEST_F(ModelProcessorTest, StoredSpecWithALabelIndexAcceptsInputsWithAndWithoutTheLabel) {
  // Trained with --decode csv:columns=5,label=N: the label by index, no names.
  for (const std::string spec : {"csv:columns=5,label=4", "csv:columns=5,label=0"}) {
    model::ModelConfig c;
    c.task = model::Task::multiclass(3);
    c.features.num_features = 4;
    c.features.decoder_spec = spec;
    c.spec = model::parse_model_spec("mlp:16");
    const std::string path = (dir_ / "indexed.smlm").string();
    model::Model::create(c).save(path);
    auto p = make_model_processor({path, OutputFormat::kJson, ""});
    auto decoder = data::make_decoder(p->decoder_spec());
    ASSERT_EQ(decoder->num_features(), 4u) << spec;
    std::vector<float> unlabelled(4), labelled(4);
    auto error = decoder->decode(testing::serve_row(3), unlabelled.data(), nullptr);
    ASSERT_FALSE(error) << spec << ": " << *error;
    const std::string row = testing::serve_row(3);
    error = decoder->decode(spec.back() == '4' ? row + ",2" : "2," + row, labelled.data(), nullptr);
    ASSERT_FALSE(error) << spec << ": " << *error;
    EXPECT_EQ(unlabelled, labelled) << spec;
    error = decoder->decode("1,2", labelled.data(), nullptr);
    ASSERT_TRUE(error) << spec;
    EXPECT_NE(error->find("expected 5 (with the label column) or 4 (without)"), std::string::npos) << *error;
  }
}

TEST_F(ModelProcessorTest, CsvFormat) {
  auto p = make_model_processor({path_, OutputFormat::kCsv, ""});
  data::Batch batch = decode(*p, {testing::serve_row(3)});
  std::vector<ProcessResult> results;
  p->process(batch, results);
  ASSERT_TRUE(results.at(0).output);
  model::Model reference = model::Model::load(path_);
  EXPECT_EQ(results[0].output->value, model::format_csv(reference.predict(testing::serve_batch({3})), 0));
}

TEST_F(ModelProcessorTest, RejectsNonFiniteRowsAndServesTheRest) {
  auto p = make_model_processor({path_, OutputFormat::kJson, ""});
  data::Batch batch = decode(*p, {testing::serve_row(1), testing::serve_row(2), testing::serve_row(3)});
  batch.features[1 * 4 + 2] = std::numeric_limits<float>::quiet_NaN();
  std::vector<ProcessResult> results;
  p->process(batch, results);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].output);
  EXPECT_FALSE(results[1].output);
  EXPECT_NE(results[1].error.find("feature 2"), std::string::npos) << results[1].error;
  ASSERT_TRUE(results[2].output);
  model::Model reference = model::Model::load(path_);
  // Predicted in a batch of two, against alone: equal up to rounding.
  EXPECT_TRUE(testing::same_prediction(results[2].output->value,
                                       model::format_json(reference.predict(testing::serve_batch({3})), 0)));
}

TEST_F(ModelProcessorTest, VersionFollowsTheFileContentOrItsMetadata) {
  const std::string v1 = make_model_processor({path_, OutputFormat::kJson, ""})->version();
  EXPECT_EQ(v1.rfind("crc-", 0), 0u) << v1;
  EXPECT_EQ(make_model_processor({path_, OutputFormat::kJson, ""})->version(), v1);
  testing::make_serve_model(8).save(path_);
  const std::string v2 = make_model_processor({path_, OutputFormat::kJson, ""})->version();
  EXPECT_NE(v1, v2);
  model::Model m = testing::make_serve_model(9);
  m.set_metadata("version", "2026-11-24.1");
  m.save(path_);
  EXPECT_EQ(make_model_processor({path_, OutputFormat::kJson, ""})->version(), "2026-11-24.1");
}

TEST_F(ModelProcessorTest, ClearErrors) {
  EXPECT_THROW(make_model_processor({(dir_ / "missing.smlm").string(), OutputFormat::kJson, ""}), InputError);
  {
    std::ofstream(dir_ / "junk.smlm") << "not a model";
  }
  EXPECT_THROW(make_model_processor({(dir_ / "junk.smlm").string(), OutputFormat::kJson, ""}), InputError);
  EXPECT_THROW(make_model_processor({path_, OutputFormat::kJson, "csv:names=a+b"}), ConfigError);
  EXPECT_THROW(parse_output_format("xml"), ConfigError);
  EXPECT_EQ(parse_output_format("csv"), OutputFormat::kCsv);
}

}  // namespace
}  // namespace streamml::serve
