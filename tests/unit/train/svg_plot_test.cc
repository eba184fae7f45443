// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The training curves' SVG (render_training_svg): the best epoch's marker,
// the AUC panel and the panel titles. SvgPlot writing the file during fit()
// is tested in callbacks_test.cc.
#include "streamml/train/svg_plot.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "streamml/common/svg.h"

namespace streamml::train {
namespace {

// Five epochs; val_loss is lowest at epoch 3, accuracy highest at epoch 4.
EpochHistory five_epochs(bool with_auc) {
  const double loss[] = {0.9, 0.7, 0.6, 0.5, 0.45};
  const double val_loss[] = {0.95, 0.8, 0.62, 0.66, 0.7};
  const double accuracy[] = {0.6, 0.7, 0.75, 0.82, 0.8};
  EpochHistory history;
  for (int e = 0; e < 5; ++e) {
    Logs logs{{"loss", loss[e]}, {"val_loss", val_loss[e]}, {"accuracy", accuracy[e]},
              {"val_accuracy", accuracy[e] - 0.05}};
    if (with_auc) logs["val_auc"] = 0.7 + 0.04 * e;
    history.emplace_back(e + 1, logs);
  }
  return history;
}

// The x of every point of the first polyline named `name` in the panel that starts at `panel_start`.
std::vector<double> xs_of(const std::string& svg, const std::string& name, size_t panel_start = 0) {
  const size_t at = svg.find("data-name=\"" + name + "\"", panel_start);
  const size_t points = svg.find("points=\"", at) + 8;
  std::istringstream in(svg.substr(points, svg.find('"', points) - points));
  std::vector<double> xs;
  for (std::string p; in >> p;) xs.push_back(std::stod(p.substr(0, p.find(','))));
  return xs;
}

// The x1 of every best-epoch marker.
std::vector<double> best_marker_xs(const std::string& svg) {
  std::vector<double> xs;
  const std::regex marker(R"re(<line class="marker" data-kind="best-epoch" x1="([0-9.]+)")re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), marker); it != std::sregex_iterator(); ++it) {
    xs.push_back(std::stod((*it)[1]));
  }
  return xs;
}

TEST(BestEpoch, IsTheLowestValLossByDefaultAndTheHighestOfAnAccuracy) {
  const EpochHistory history = five_epochs(false);
  const auto best = best_epoch(history);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->epoch, 3);
  EXPECT_EQ(best->monitor, "val_loss");
  EXPECT_DOUBLE_EQ(best->value, 0.62);
  EXPECT_EQ(best_epoch(history, "accuracy")->epoch, 4);
  EXPECT_EQ(best_epoch(history, "loss")->epoch, 5);
  // Without validation: loss. Without the metric: none.
  EpochHistory train_only = {{1, {{"loss", 0.5}}}, {2, {{"loss", 0.4}}}, {3, {{"loss", 0.4}}}};
  EXPECT_EQ(best_epoch(train_only)->epoch, 2);  // the first of equals
  EXPECT_EQ(best_epoch(train_only)->monitor, "loss");
  EXPECT_FALSE(best_epoch(train_only, "auc").has_value());
  EXPECT_FALSE(best_epoch({}).has_value());
}

TEST(TrainingSvg, MarksTheBestEpochOnEveryPanelAtItsX) {
  const std::string svg = render_training_svg(five_epochs(false), "accuracy");
  const std::vector<double> markers = best_marker_xs(svg);
  ASSERT_EQ(markers.size(), 2u) << "one per panel (loss, accuracy)";
  // At epoch 3: the third point of each panel's curves.
  const size_t second_panel = svg.find("<g class=\"panel\">", svg.find("<g class=\"panel\">") + 1);
  EXPECT_DOUBLE_EQ(markers[0], xs_of(svg, "validation")[2]);
  EXPECT_DOUBLE_EQ(markers[1], xs_of(svg, "validation", second_panel)[2]);
  EXPECT_NE(svg.find(">best epoch 3</text>"), std::string::npos);
  // With --monitor accuracy: epoch 4.
  const std::string by_accuracy = render_training_svg(five_epochs(false), "accuracy", "t", "accuracy");
  EXPECT_DOUBLE_EQ(best_marker_xs(by_accuracy).at(0), xs_of(by_accuracy, "training")[3]);
  EXPECT_NE(by_accuracy.find(">best epoch 4</text>"), std::string::npos);
  // Nothing to compare: no marker.
  EXPECT_TRUE(best_marker_xs(render_training_svg({}, "rmse")).empty());
}

TEST(TrainingSvg, PlotsAucInItsOwnPanelWhenTheLogsHaveIt) {
  const std::string without = render_training_svg(five_epochs(false), "accuracy");
  EXPECT_EQ(without.find(">AUC</text>"), std::string::npos);
  EXPECT_NE(without.find("width=\"960\""), std::string::npos) << "two panels";

  const std::string with = render_training_svg(five_epochs(true), "accuracy");
  const size_t auc_panel = with.find(svg::panel_title(480 * 2 + (70 + 460) / 2.0, 36 + 20, "AUC"));
  ASSERT_NE(auc_panel, std::string::npos) << "third panel, titled like the others";
  EXPECT_NE(with.find("width=\"1440\""), std::string::npos);
  // Only val_auc was logged: the panel has the validation curve, one point per epoch.
  EXPECT_EQ(with.find("data-name=\"training\"", auc_panel), std::string::npos);
  EXPECT_EQ(xs_of(with, "validation", auc_panel).size(), 5u);
}

TEST(TrainingSvg, PanelTitlesShareOneStyle) {
  const std::string svg = render_training_svg(five_epochs(true), "accuracy");
  size_t titles = 0;
  for (size_t pos = svg.find("class=\"panel-title\""); pos != std::string::npos;
       pos = svg.find("class=\"panel-title\"", pos + 1)) {
    ++titles;
  }
  EXPECT_EQ(titles, 3u);
  for (const char* title : {"Loss", "Accuracy", "AUC"}) {
    EXPECT_NE(svg.find(std::string("font-weight=\"bold\">") + title + "</text>"), std::string::npos) << title;
  }
  const std::string regression = render_training_svg({{1, {{"loss", 0.5}, {"rmse", 0.7}}}}, "rmse");
  EXPECT_NE(regression.find("font-weight=\"bold\">RMSE</text>"), std::string::npos);
}

}  // namespace
}  // namespace streamml::train
