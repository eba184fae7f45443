// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/svg.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace streamml::svg {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

double nice_step(double range, int count) {
  if (!(range > 0) || !std::isfinite(range)) return 1.0;
  const double raw = range / (count < 1 ? 1 : count);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / power;  // in [1, 10)
  // Thresholds near the geometric means of neighbours (sqrt(2), sqrt(10),
  // sqrt(50)), as in Heckbert's "Nice numbers for graph labels".
  const double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * power;
}

std::string_view palette_colour(size_t index) {
  static constexpr std::array<std::string_view, kPaletteSize> kPalette = {
      "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000",  // Okabe-Ito
      "#8db600", "#c2b280", "#be0032", "#654522", "#f99379", "#7f7f7f", "#9467bd"};
  return kPalette[index % kPaletteSize];
}

std::string panel_title(double x, double y, std::string_view text) {
  return fmt::format(
      "<text class=\"panel-title\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"15\" "
      "font-weight=\"bold\">{}</text>\n",
      x, y, xml_escape(text));
}

std::string legend_entry(double x, double y, const LegendEntry& e) {
  std::string out;
  const std::string dash = e.dasharray.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", e.dasharray);
  const std::string opacity = e.opacity < 1 ? fmt::format(" stroke-opacity=\"{:g}\"", e.opacity) : "";
  if (e.marker) {
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"", x + 12, y - 7, y + 7);
  } else {
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\"", x, x + 24, y);
  }
  out += fmt::format(" stroke=\"{}\" stroke-width=\"{:g}\"{}{}/>\n", e.colour, e.stroke_width, dash, opacity);
  out += fmt::format("<text class=\"legend\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\"{}>{}</text>\n", x + 30,
                     y + 4, e.bold ? " font-weight=\"bold\"" : "", xml_escape(e.text));
  return out;
}

}  // namespace streamml::svg
