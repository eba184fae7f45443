// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the SVG writers (train/svg_plot.h, the horse-race demo's
// chart): escaping text for XML and choosing axis tick steps. Pure functions,
// safe to call from any thread.
#pragma once

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

}  // namespace streamml::svg
