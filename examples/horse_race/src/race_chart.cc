// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "streamml/common/error.h"
#include "streamml/common/svg.h"

namespace streamml::demo {
namespace {

// The winner's line stands out: thick and opaque; the others are thinner and lighter.
constexpr double kWinnerWidth = 3.5;
constexpr double kRunnerWidth = 1.5;
constexpr double kRunnerOpacity = 0.55;
// The leader's progress marked by a dashed line (where it passed this share of the distance).
constexpr std::array<double, 4> kProgressMarks = {0.25, 0.5, 0.75, 0.9};
constexpr const char* kMarkerColour = "#888888";
constexpr double kMarkerWidth = 1.5;
constexpr const char* kMarkerDash = "4 4";

using svg::nice_step;
using svg::xml_escape;

}  // namespace

std::string render_win_probability_svg(const RaceTrace& trace, const SvgChartOptions& options) {
  if (options.width < 300 || options.width > 10000) {
    throw ConfigError(fmt::format("svg chart: width must be in [300, 10000], got {}", options.width));
  }
  if (options.height < 200 || options.height > 10000) {
    throw ConfigError(fmt::format("svg chart: height must be in [200, 10000], got {}", options.height));
  }
  const double left = 64, right = 200, top = 48, bottom = 56;
  const double plot_w = options.width - left - right;
  const double plot_h = options.height - top - bottom;
  const double t_max = trace.ticks.empty() ? 1.0 : std::max(1.0, trace.ticks.back().time_s);
  auto x_of = [&](double t) { return left + plot_w * std::clamp(t / t_max, 0.0, 1.0); };
  auto y_of = [&](double p) { return top + plot_h * (1.0 - std::clamp(p, 0.0, 1.0)); };

  const std::string title = options.title.empty()
                                ? fmt::format("Race {}: win probability over race time", trace.race_id)
                                : options.title;
  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      options.width, options.height);
  svg += fmt::format("<title>{}</title>\n", xml_escape(title));
  svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", options.width,
                     options.height);
  svg += svg::panel_title(options.width / 2.0, 24, title);

  // Grid and axes.
  svg += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = y_of(i / 4.0);
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>\n", left, y, left + plot_w, y);
  }
  svg += "</g>\n";
  svg += fmt::format("<g stroke=\"#333333\" stroke-width=\"1\">\n"
                     "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n"
                     "<line x1=\"{0:.1f}\" y1=\"{3:.1f}\" x2=\"{0:.1f}\" y2=\"{1:.1f}\"/>\n</g>\n",
                     left, top + plot_h, left + plot_w, top);
  svg += "<g fill=\"#333333\">\n";
  for (int i = 0; i <= 4; ++i) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}%</text>\n", left - 6,
                       y_of(i / 4.0) + 4, i * 25);
  }
  const double step = nice_step(t_max, 8);
  for (double t = 0.0; t <= t_max + 1e-9; t += step) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>\n", x_of(t),
                       top + plot_h + 18, t);
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">race time (s)</text>\n",
                     left + plot_w / 2, top + plot_h + 40);
  svg += fmt::format("<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0:.1f})\">"
                     "win probability</text>\n",
                     top + plot_h / 2);
  svg += "</g>\n";

  // Progress markers.
  if (options.mark_progress) {
    svg += fmt::format(
        "<g class=\"progress-marks\" stroke=\"{}\" stroke-width=\"{:g}\" stroke-dasharray=\"{}\" fill=\"#777777\">\n",
        kMarkerColour, kMarkerWidth, kMarkerDash);
    for (double f : kProgressMarks) {
      const size_t k = trace.tick_at_progress(f);
      if (k >= trace.ticks.size()) continue;
      const double x = x_of(trace.ticks[k].time_s);
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", x, top,
                         top + plot_h);
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" stroke=\"none\" text-anchor=\"middle\" font-size=\"10\">"
                         "{:g}%</text>\n",
                         x, top - 4, f * 100);
    }
    svg += "</g>\n";
  }

  // One line per horse; the winner last so it is drawn on top.
  std::vector<size_t> draw_order(trace.horses.size());
  for (size_t i = 0; i < draw_order.size(); ++i) draw_order[i] = i;
  std::stable_partition(draw_order.begin(), draw_order.end(),
                        [&](size_t i) { return trace.horses[i] != trace.winner; });
  svg += "<g fill=\"none\" stroke-linejoin=\"round\">\n";
  for (size_t i : draw_order) {
    const bool winner = trace.horses[i] == trace.winner;
    std::string points;
    for (const TickPrediction& tick : trace.ticks) {
      const double p = i < tick.probabilities.size() ? tick.probabilities[i] : 0.0;
      if (!points.empty()) points += ' ';
      points += fmt::format("{:.1f},{:.1f}", x_of(tick.time_s), y_of(std::isfinite(p) ? p : 0.0));
    }
    svg += fmt::format(
        "<polyline stroke=\"{}\" stroke-width=\"{:g}\"{} points=\"{}\"><title>horse {}</title></polyline>\n",
        svg::palette_colour(i), winner ? kWinnerWidth : kRunnerWidth,
        winner ? "" : fmt::format(" stroke-opacity=\"{:g}\"", kRunnerOpacity), points, trace.horses[i]);
  }
  svg += "</g>\n";

  // Legend: the horses, then what the dashed lines mean.
  svg += "<g class=\"legend\">\n";
  const double lx = left + plot_w + 16;
  double ly = top + 8;
  for (size_t i = 0; i < trace.horses.size(); ++i, ly += 18) {
    const bool winner = trace.horses[i] == trace.winner;
    svg += svg::legend_entry(lx, ly,
                             svg::LegendEntry{.text = fmt::format("#{}{}", trace.horses[i], winner ? " (winner)" : ""),
                                              .colour = std::string(svg::palette_colour(i)),
                                              .stroke_width = winner ? kWinnerWidth : kRunnerWidth,
                                              .bold = winner,
                                              .opacity = winner ? 1.0 : kRunnerOpacity});
  }
  if (options.mark_progress) {
    ly += 10;
    svg += svg::legend_entry(lx, ly, svg::LegendEntry{.text = "race progress:", .colour = kMarkerColour,
                                                      .stroke_width = kMarkerWidth, .dasharray = kMarkerDash,
                                                      .marker = true});
    svg += fmt::format("<text class=\"legend\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#555555\">"
                       "leader past 25/50/75/90%</text>\n",
                       lx + 30, ly + 18);
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

std::optional<LateSurge> find_late_surge_race(std::span<const RaceTrace> traces, double min_rise) {
  std::optional<LateSurge> best;
  for (size_t i = 0; i < traces.size(); ++i) {
    const RaceTrace& trace = traces[i];
    const size_t half = trace.tick_at_progress(0.5);
    const size_t late = trace.tick_at_progress(0.9);
    if (half >= trace.ticks.size() || late >= trace.ticks.size()) continue;
    const std::vector<int32_t> ranked = trace.ranking(half);
    if (ranked.empty() || ranked.front() == trace.winner) continue;
    LateSurge s;
    s.trace_index = i;
    s.favourite_at_half = ranked.front();
    s.winner = trace.winner;
    s.winner_at_half = trace.probability(half, trace.winner);
    s.winner_late = trace.probability(late, trace.winner);
    const double rise = s.winner_late - s.winner_at_half;
    if (rise < min_rise) continue;
    if (!best || rise > best->winner_late - best->winner_at_half) best = s;
  }
  return best;
}

std::optional<LateSurgeChart> late_surge_chart(std::span<const RaceTrace> traces) {
  for (double rise : {0.2, 0.1, 0.0}) {
    const std::optional<LateSurge> surge = find_late_surge_race(traces, rise);
    if (!surge) continue;
    const RaceTrace& trace = traces[surge->trace_index];
    SvgChartOptions chart;
    chart.title = fmt::format("Race {}: win probability over race time (late surge by #{})", trace.race_id,
                              surge->winner);
    return LateSurgeChart{*surge, render_win_probability_svg(trace, chart)};
  }
  return std::nullopt;
}

}  // namespace streamml::demo
