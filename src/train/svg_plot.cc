// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/svg_plot.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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
constexpr double kLegendStep = 130;   // legend entries side by side, this far apart
// Colours of the shared palette (svg.h): training blue, validation orange, the best epoch green.
const std::string_view kTrainColor = svg::palette_colour(0);
const std::string_view kValidationColor = svg::palette_colour(1);
const std::string_view kBestColor = svg::palette_colour(2);
const std::string_view kDriftColor = svg::palette_colour(3);
const std::string_view kTrueDriftColor = svg::palette_colour(12);

using svg::nice_step;
using svg::xml_escape;

// A metric as panel titles write it: acronyms in capitals ("AUC", "RMSE"), other names as they are.
std::string metric_name(const std::string& metric) {
  if (metric != "auc" && metric != "rmse" && metric != "mae") return metric;
  std::string upper = metric;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

// A panel's title for a metric: "Loss", "Accuracy", "AUC", "RMSE".
std::string metric_title(const std::string& metric) {
  std::string title = metric_name(metric);
  if (!title.empty()) title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
  return title;
}

std::string tick_label(double value, double step) {
  if (std::abs(value) < step * 1e-9) value = 0;
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step))));
  return fmt::format("{:.{}f}", value, std::min(decimals, 8));
}

struct Series {
  std::string name;
  std::string_view color;
  bool dashed;
  std::vector<std::pair<double, double>> points;  // (epoch, value)
};

// A vertical line across a panel at x (class "marker", data-kind="<kind>").
struct Marker {
  double x;
  std::string_view color;
  bool dashed;
  std::string_view kind;
};

struct PanelStyle {
  std::string x_label = "epoch";
  bool dots = true;              // a dot on every point
  bool round_x_ticks = false;    // x ticks at multiples of the step (else from the first x)
  std::vector<Marker> markers{};  // vertical lines
  std::vector<std::pair<std::string, Marker>> marker_legend{};  // legend entries for markers
};

void draw_panel(std::string& svg, double x0, double y0, const std::string& title,
                const std::string& y_label, const std::vector<Series>& series, const PanelStyle& style = {}) {
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
  if (std::isfinite(x_min)) {
    for (const Marker& m : style.markers) {
      x_min = std::min(x_min, m.x);
      x_max = std::max(x_max, m.x);
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
  svg += svg::panel_title((left + right) / 2, y0 + 20, title);
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
  const double x_first = style.round_x_ticks ? std::ceil(x_min / x_step) * x_step : std::ceil(x_min);
  for (double x = x_first; x <= x_max + 1e-9; x += x_step) {
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
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
      (left + right) / 2, bottom + 38, xml_escape(style.x_label));
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
      if (!style.dots) break;
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", sx(x),
                         sy(y), s.color);
    }
    // Legend entry, below the axis title so it never hides a curve.
    svg += svg::legend_entry(left + kLegendStep * legend_index++, bottom + 60,
                             svg::LegendEntry{.text = s.name, .colour = std::string(s.color),
                                              .dasharray = s.dashed ? "6 4" : ""});
  }
  if (!empty) {
    for (const Marker& m : style.markers) {
      svg += fmt::format(
          "<line class=\"marker\" data-kind=\"{5}\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
          "stroke-width=\"1.5\"{4}/>\n",
          sx(m.x), top, bottom, m.color, m.dashed ? " stroke-dasharray=\"4 3\"" : "", m.kind);
    }
  }
  for (const auto& [name, m] : style.marker_legend) {
    svg += svg::legend_entry(left + kLegendStep * legend_index++, bottom + 60,
                             svg::LegendEntry{.text = name, .colour = std::string(m.color), .stroke_width = 1.5,
                                              .dasharray = m.dashed ? "4 3" : "", .marker = true});
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

std::string svg_header(double width, double height, const std::string& title) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">\n"
      "<title>{2}</title>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
      "<text x=\"{3}\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">{2}</text>\n",
      width, height, xml_escape(title), width / 2);
}

// Writes `text` to `path` atomically (temporary file + rename).
void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "w");
  if (file == nullptr) {
    throw InputError(fmt::format("cannot write plot '{}': {}", path, std::strerror(errno)));
  }
  const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw InputError(fmt::format("cannot write plot '{}': {}", path, std::strerror(err)));
  }
}


std::vector<Series> online_series(const OnlineHistory& history, const std::string& metric) {
  Series window{"window", kTrainColor, false, {}};
  Series faded{"faded", kValidationColor, true, {}};
  for (const auto& [records, logs] : history.points) {
    auto w = logs.find("preq_" + metric);
    if (w != logs.end() && std::isfinite(w->second)) window.points.emplace_back(records, w->second);
    auto f = logs.find("preq_faded_" + metric);
    if (f != logs.end() && std::isfinite(f->second)) faded.points.emplace_back(records, f->second);
  }
  return {window, faded};
}

}  // namespace

std::string render_online_svg(const OnlineHistory& history, const std::string& title) {
  const double width = 2 * kPanelWidth;
  const double height = kPanelHeight + kTitleHeight;
  std::string svg = svg_header(width, height, title);
  PanelStyle style;
  style.x_label = "records";
  style.dots = false;
  style.round_x_ticks = true;
  for (double x : history.drifts) style.markers.push_back(Marker{x, kDriftColor, false, "drift"});
  if (!history.drifts.empty()) {
    style.marker_legend.emplace_back("drift detected", Marker{0, kDriftColor, false, "drift"});
  }
  if (history.true_drift >= 0) {
    style.markers.push_back(Marker{history.true_drift, kTrueDriftColor, true, "true-drift"});
    style.marker_legend.emplace_back("true drift", Marker{0, kTrueDriftColor, true, "true-drift"});
  }
  draw_panel(svg, 0, kTitleHeight, "Prequential " + metric_name(history.metric), history.metric,
             online_series(history, history.metric), style);
  draw_panel(svg, kPanelWidth, kTitleHeight, "Prequential loss", "loss", online_series(history, "loss"), style);
  svg += "</svg>\n";
  return svg;
}

OnlinePlot::OnlinePlot(std::string path, double true_drift) : path_(std::move(path)) {
  if (path_.empty()) throw ConfigError("plot path is empty");
  history_.true_drift = true_drift;
}

void OnlinePlot::on_train_begin(TrainContext& context) {
  history_.points.clear();
  history_.drifts.clear();
  history_.metric = "accuracy";
  title_ = "streamml online learning";
  if (context.model != nullptr) {
    if (!context.model->task().is_classification()) history_.metric = "rmse";
    title_ += " (" + context.model->task().to_string() + ", prequential)";
  }
}

void OnlinePlot::on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {
  Logs kept;
  for (const char* key : {"preq_accuracy", "preq_faded_accuracy", "preq_rmse", "preq_faded_rmse", "preq_loss",
                          "preq_faded_loss"}) {
    auto it = logs.find(key);
    if (it != logs.end()) kept.emplace(key, it->second);
  }
  if (kept.empty()) return;
  history_.points.emplace_back(static_cast<double>(context.records), std::move(kept));
  if (step % kRewriteBatches == 0) write_file(path_, render_online_svg(history_, title_));
}

void OnlinePlot::on_drift(TrainContext& context, const DriftEvent& event) {
  history_.drifts.push_back(static_cast<double>(event.run_record));
}

void OnlinePlot::on_train_end(TrainContext& context, const Logs& logs) {
  write_file(path_, render_online_svg(history_, title_));
}

std::optional<BestEpoch> best_epoch(const EpochHistory& history, const std::string& monitor) {
  std::string key = monitor;
  if (key.empty()) {
    key = "loss";
    for (const auto& [epoch, logs] : history) {
      if (auto v = logs.find("val_loss"); v != logs.end() && std::isfinite(v->second)) key = "val_loss";
    }
  }
  const bool higher = higher_is_better(key);
  std::optional<BestEpoch> best;
  for (const auto& [epoch, logs] : history) {
    const auto v = logs.find(key);
    if (v == logs.end() || !std::isfinite(v->second)) continue;
    if (!best || (higher ? v->second > best->value : v->second < best->value)) best = BestEpoch{epoch, key, v->second};
  }
  return best;
}

std::string render_training_svg(const EpochHistory& history, const std::string& metric, const std::string& title,
                                const std::string& monitor) {
  // Panels: loss, the task's metric, and AUC when the logs have it.
  std::vector<std::string> metrics = {"loss", metric};
  const bool has_auc = std::any_of(history.begin(), history.end(), [](const auto& epoch) {
    return epoch.second.count("auc") > 0 || epoch.second.count("val_auc") > 0;
  });
  if (has_auc && metric != "auc") metrics.push_back("auc");
  PanelStyle style;
  if (const std::optional<BestEpoch> best = best_epoch(history, monitor)) {
    const Marker marker{static_cast<double>(best->epoch), kBestColor, true, "best-epoch"};
    style.markers.push_back(marker);
    style.marker_legend.emplace_back(fmt::format("best epoch {}", best->epoch), marker);
  }
  const double width = kPanelWidth * static_cast<double>(metrics.size());
  const double height = kPanelHeight + kTitleHeight;
  std::string svg = svg_header(width, height, title);
  for (size_t i = 0; i < metrics.size(); ++i) {
    draw_panel(svg, kPanelWidth * static_cast<double>(i), kTitleHeight, metric_title(metrics[i]), metrics[i],
               series_for(history, metrics[i]), style);
  }
  svg += "</svg>\n";
  return svg;
}

SvgPlot::SvgPlot(std::string path, std::string metric, std::string monitor)
    : path_(std::move(path)), metric_(std::move(metric)), monitor_(std::move(monitor)) {
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

void SvgPlot::write() const { write_file(path_, render_training_svg(history_, metric_, title_, monitor_)); }

}  // namespace streamml::train
