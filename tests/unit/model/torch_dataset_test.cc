// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/torch_dataset.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "streamml/common/error.h"
#include "streamml/data/in_memory_source.h"

namespace streamml::model {
namespace {

std::shared_ptr<data::InMemorySource> make_source(size_t rows) {
  std::vector<float> x, y;
  for (size_t i = 0; i < rows; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(i) * 10);
    y.push_back(static_cast<float>(i % 2));
  }
  data::InMemorySourceOptions options;
  options.batch_size = 4;
  return std::make_shared<data::InMemorySource>(std::move(x), 2, std::move(y), 1, options);
}

TEST(TorchDataset, StatefulLoaderYieldsTheSourceBatchesEveryEpoch) {
  auto loader = torch::data::make_data_loader(TorchDataset(make_source(10)),
                                              torch::data::DataLoaderOptions().batch_size(1).workers(0));
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> sizes;
    float expected = 0;
    for (auto& example : *loader) {
      ASSERT_EQ(example.data.dim(), 2);
      ASSERT_EQ(example.data.size(1), 2);
      ASSERT_EQ(example.target.size(1), 1);
      for (int64_t r = 0; r < example.data.size(0); ++r, ++expected) {
        EXPECT_FLOAT_EQ(example.data[r][0].item<float>(), expected);
        EXPECT_FLOAT_EQ(example.data[r][1].item<float>(), expected * 10);
        EXPECT_FLOAT_EQ(example.target[r][0].item<float>(), static_cast<float>(static_cast<int>(expected) % 2));
      }
      sizes.push_back(example.data.size(0));
    }
    EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2})) << "epoch " << epoch;
  }
}

TEST(TorchDataset, LoadWithoutStateIsAnError) {
  TorchDataset dataset(make_source(3));
  torch::serialize::OutputArchive out;
  dataset.save(out);  // InMemorySource has no resumable state: saves ""
  std::stringstream buffer;
  out.save_to(buffer);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  EXPECT_NO_THROW(dataset.load(in));  // "" restores nothing
  torch::serialize::InputArchive empty;
  torch::serialize::OutputArchive blank;
  std::stringstream blank_buffer;
  blank.save_to(blank_buffer);
  empty.load_from(blank_buffer);
  EXPECT_THROW(dataset.load(empty), InputError);
}

}  // namespace
}  // namespace streamml::model
