// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the SVG writers (train/svg_plot.h, the horse-race demo's
// chart): escaping text for XML, axis tick steps, and the look every chart
// shares: the colour palette, panel titles and legend entries. Pure
// functions, safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace streamml::svg {

// `text` with the five XML special characters replaced by their entities
// (& &amp;, < &lt;, > &gt;, " &quot;, ' &apos;), so the result is safe both
// as element text and inside a single- or double-quoted attribute. Other
// bytes (UTF-8 included) are copied unchanged.
std::string xml_escape(std::string_view text);

// A "nice" tick step, 1, 2 or 5 times a power of ten, giving about `count`
// ticks over `range` (Heckbert's nice numbers: range / count rounded to the
// nearest of them). Returns 1 when `range` is not a positive finite number;
// `count` below 1 counts as 1.
double nice_step(double range, int count);

// Colours for series that must be told apart: Okabe and Ito's colour-blind-
// safe set (blue, orange, green, vermillion, pink, sky blue, black), then
// seven more chosen to stay apart from them and each other (every pair at
// least 25 CIE76 Delta E apart). `index` wraps around kPaletteSize.
inline constexpr size_t kPaletteSize = 14;
std::string_view palette_colour(size_t index);

// A panel's title, the same in every chart: bold 15 px text centred at
// (x, y), class "panel-title".
std::string panel_title(double x, double y, std::string_view text);

// One legend entry: a 24 px line sample at (x, y) (vertical for a marker,
// such as a progress or best-epoch line), then `text` after it, escaped.
struct LegendEntry {
  std::string text;             // label
  std::string colour;           // stroke colour
  double stroke_width = 2;      // line sample width
  std::string dasharray{};      // "" solid, else an SVG stroke-dasharray ("4 4")
  bool marker = false;          // a vertical sample (a marker line), else horizontal (a series)
  bool bold = false;            // bold text (e.g. the winner)
  double opacity = 1;           // the sample's stroke opacity
};
std::string legend_entry(double x, double y, const LegendEntry& entry);

}  // namespace streamml::svg
