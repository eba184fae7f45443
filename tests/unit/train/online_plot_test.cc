// Copyright streamml authors. Licensed under the Apache License 2.0.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "streamml/common/error.h"
#include "streamml/model/model.h"
#include "streamml/train/svg_plot.h"

namespace streamml::train {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(OnlinePlot, DrawsWindowAndFadedCurvesOverRecordsWithTheDriftsMarked) {
  OnlineHistory history;
  history.metric = "accuracy";
  for (int i = 1; i <= 50; ++i) {
    history.points.emplace_back(i * 100.0, Logs{{"preq_accuracy", i < 25 ? 0.95 : 0.8},
                                                {"preq_faded_accuracy", 0.9},
                                                {"preq_loss", 0.2},
                                                {"preq_faded_loss", 0.25}});
  }
  history.drifts = {2600, 2900};
  history.true_drift = 2500;
  const std::string svg = render_online_svg(history, "sea <run>");
  EXPECT_NE(svg.find("sea &lt;run&gt;"), std::string::npos);
  EXPECT_NE(svg.find("Prequential accuracy"), std::string::npos);
  EXPECT_NE(svg.find("Prequential loss"), std::string::npos);
  EXPECT_EQ(count(svg, ">records</text>"), 2u);
  // Two panels, each with the window and the faded curve, and three markers.
  EXPECT_EQ(count(svg, "<polyline"), 4u);
  EXPECT_EQ(count(svg, "data-name=\"window\""), 2u);
  EXPECT_EQ(count(svg, "data-name=\"faded\""), 2u);
  EXPECT_EQ(count(svg, "class=\"marker\""), 6u);
  EXPECT_EQ(count(svg, ">drift detected</text>"), 2u);
  EXPECT_EQ(count(svg, ">true drift</text>"), 2u);
  // Ticks at round record counts.
  EXPECT_NE(svg.find(">1000</text>"), std::string::npos);
  EXPECT_NE(svg.find(">5000</text>"), std::string::npos);
  // No dot per point: a long run stays a small file.
  EXPECT_EQ(count(svg, "<circle"), 0u);
}

TEST(OnlinePlot, WithoutDriftsOrPointsItStillDrawsBothPanels) {
  OnlineHistory history;
  history.metric = "rmse";
  const std::string svg = render_online_svg(history);
  EXPECT_NE(svg.find("Prequential RMSE"), std::string::npos);
  EXPECT_EQ(count(svg, "no data"), 2u);
  EXPECT_EQ(count(svg, "class=\"marker\""), 0u);
}

TEST(OnlinePlot, TheCallbackWritesTheFileWithTheDriftsItWasTold) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("online-plot-" + std::to_string(::getpid()) + ".svg")).string();
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features.num_features = 2;
  config.spec = model::parse_model_spec("linear");
  model::Model model = model::Model::create(config);
  OnlinePlot plot(path, /*true_drift=*/100);
  TrainContext context;
  context.model = &model;
  plot.on_train_begin(context);
  for (int64_t step = 1; step <= 10; ++step) {
    context.records = step * 20;
    plot.on_batch_end(context, step, Logs{{"preq_accuracy", 0.9}, {"preq_loss", 0.3}});
  }
  DriftEvent event;
  event.run_record = 130;
  plot.on_drift(context, event);
  plot.on_train_end(context, {});
  std::ifstream in(path);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(svg.find("(binary, prequential)"), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"marker\""), 4u);
  std::filesystem::remove(path);
  EXPECT_THROW(OnlinePlot(""), ConfigError);
}

}  // namespace
}  // namespace streamml::train
