// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/svg_plot.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>

#include "streamml/common/error.h"
#include "streamml/common/svg.h"
#include "streamml/model/model.h"
#include "streamml/train/metrics.h"

namespace streamml::train {
namespace {

constexpr double kPanelWidth = 480;
constexpr double kPanelHeight = 380;
constexpr double kTitleHeight = 36;
constexpr double kMarginLeft = 70;
constexpr double kMarginRight = 20;
constexpr double kMarginTop = 30;
constexpr double kMarginBottom = 74;  // x labels, axis title and legend
constexpr const char* kTrainColor = "#1f77b4";
constexpr const char* kValidationColor = "#ff7f0e";

using svg::nice_step;
using svg::xml_escape;

std::string tick_label(double value, double step) {
  if (std::abs(value) < step * 1e-9) value = 0;
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step))));
  return fmt::format("{:.{}f}", value, std::min(decimals, 8));
}

struct Series {
  std::string name;
  const char* color;
  bool dashed;
  std::vector<std::pair<double, double>> points;  // (epoch, value)
};

void draw_panel(std::string& svg, double x0, double y0, const std::string& title,
                const std::string& y_label, const std::vector<Series>& series) {
  const double left = x0 + kMarginLeft;
  const double right = x0 + kPanelWidth - kMarginRight;
  const double top = y0 + kMarginTop;
  const double bottom = y0 + kPanelHeight - kMarginBottom;

  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  }
  const bool empty = !std::isfinite(x_min);
  if (empty) {
    x_min = 1, x_max = 2, y_min = 0, y_max = 1;
  }
  if (x_max - x_min < 1) x_max = x_min + 1;
  if (y_max - y_min < 1e-12) {
    const double pad = std::max(std::abs(y_max) * 0.05, 1e-3);
    y_min -= pad;
    y_max += pad;
  }
  const double y_step = nice_step(y_max - y_min, 5);
  y_min = std::floor(y_min / y_step) * y_step;
  y_max = std::ceil(y_max / y_step) * y_step;
  const double x_step = std::max(1.0, std::ceil(nice_step(x_max - x_min, 8)));

  auto sx = [&](double x) { return left + (x - x_min) / (x_max - x_min) * (right - left); };
  auto sy = [&](double y) { return bottom - (y - y_min) / (y_max - y_min) * (bottom - top); };

  svg += fmt::format("<g class=\"panel\">\n");
  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"15\" "
      "font-weight=\"bold\">{}</text>\n",
      (left + right) / 2, y0 + 20, xml_escape(title));
  // Grid and y ticks.
  for (double y = y_min; y <= y_max + y_step * 1e-6; y += y_step) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e0e0e0\"/>\n", left,
        sy(y), right, sy(y));
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
        left - 6, sy(y) + 4, tick_label(y, y_step));
  }
  // x ticks at whole epochs.
  for (double x = std::ceil(x_min); x <= x_max + 1e-9; x += x_step) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#000\"/>\n", sx(x),
        bottom, sx(x), bottom + 5);
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
        sx(x), bottom + 18, static_cast<int64_t>(x));
  }
  // Axes.
  svg += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#000\"/>\n", left,
      top, bottom);
  svg += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#000\"/>\n", left,
      right, bottom);
  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n",
      (left + right) / 2, bottom + 38);
  svg += fmt::format(
      "<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"middle\" font-size=\"12\" "
      "transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n",
      x0 + 18, (top + bottom) / 2, xml_escape(y_label));
  if (empty) {
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\" "
        "fill=\"#888\">no data</text>\n",
        (left + right) / 2, (top + bottom) / 2);
  }
  // Curves.
  int legend_index = 0;
  for (const Series& s : series) {
    if (s.points.empty()) continue;
    std::string points;
    for (auto [x, y] : s.points) points += fmt::format("{:.1f},{:.1f} ", sx(x), sy(y));
    points.pop_back();
    svg += fmt::format(
        "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"2\"{} points=\"{}\"/>\n",
        xml_escape(s.name), s.color, s.dashed ? " stroke-dasharray=\"6 4\"" : "", points);
    for (auto [x, y] : s.points) {
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", sx(x),
                         sy(y), s.color);
    }
    // Legend entry, below the axis title so it never hides a curve.
    const double lx = left + 130 * legend_index++;
    const double ly = bottom + 60;
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2\"{}/>\n",
        lx, ly, lx + 24, ly, s.color, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    svg += fmt::format(
        "<text class=\"legend\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text>\n",
        lx + 30, ly + 4, xml_escape(s.name));
  }
  svg += "</g>\n";
}

std::vector<Series> series_for(const EpochHistory& history, const std::string& key) {
  Series train{"training", kTrainColor, false, {}};
  Series validation{"validation", kValidationColor, true, {}};
  for (const auto& [epoch, logs] : history) {
    auto t = logs.find(key);
    if (t != logs.end() && std::isfinite(t->second)) train.points.emplace_back(epoch, t->second);
    auto v = logs.find("val_" + key);
    if (v != logs.end() && std::isfinite(v->second)) validation.points.emplace_back(epoch, v->second);
  }
  return {train, validation};
}

}  // namespace

std::string render_training_svg(const EpochHistory& history, const std::string& metric,
                                const std::string& title) {
  const double width = 2 * kPanelWidth;
  const double height = kPanelHeight + kTitleHeight;
  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">\n"
      "<title>{2}</title>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
      "<text x=\"{3}\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">{2}</text>\n",
      width, height, xml_escape(title), width / 2);
  draw_panel(svg, 0, kTitleHeight, "Loss", "loss", series_for(history, "loss"));
  draw_panel(svg, kPanelWidth, kTitleHeight, metric, metric, series_for(history, metric));
  svg += "</svg>\n";
  return svg;
}

SvgPlot::SvgPlot(std::string path, std::string metric)
    : path_(std::move(path)), metric_(std::move(metric)) {
  if (path_.empty()) throw ConfigError("plot path is empty");
}

void SvgPlot::on_train_begin(TrainContext& context) {
  history_.clear();
  title_ = "streamml training";
  if (context.model != nullptr) {
    if (metric_.empty()) metric_ = main_metric(context.model->task());
    title_ += " (" + context.model->task().to_string() + ")";
  }
  if (metric_.empty()) metric_ = "accuracy";
}

void SvgPlot::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  history_.emplace_back(epoch + 1, logs);
  write();
}

void SvgPlot::on_train_end(TrainContext& context, const Logs& logs) { write(); }

void SvgPlot::write() const {
  const std::string svg = render_training_svg(history_, metric_, title_);
  const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "w");
  if (file == nullptr) {
    throw InputError(fmt::format("cannot write plot '{}': {}", path_, std::strerror(errno)));
  }
  const bool ok = std::fwrite(svg.data(), 1, svg.size(), file) == svg.size();
  if (std::fclose(file) != 0 || !ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw InputError(fmt::format("cannot write plot '{}': {}", path_, std::strerror(err)));
  }
}

}  // namespace streamml::train
