// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// SVG chart of a race's win probabilities over race time (one line per
// horse, legend, axes, title), and the search for a race worth charting: one
// where a late surge changed the prediction. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "horse_race/race_report.h"

namespace streamml::demo {

struct SvgChartOptions {
  int width = 860;            // image width in px, >= 300
  int height = 460;           // image height in px, >= 200
  std::string title;          // chart title; empty = "Race <id>: win probability over race time"
  bool mark_progress = true;  // dashed vertical lines where the leader passes 25/50/75/90 %
};

// A standalone SVG document (UTF-8, with XML declaration). The winner's line
// is drawn thicker and marked in the legend. Throws ConfigError for an image
// size out of range.
std::string render_win_probability_svg(const RaceTrace& trace, const SvgChartOptions& options = {});

// A race where a late surge changed the prediction.
struct LateSurge {
  size_t trace_index = 0;          // index into the traces searched
  int32_t favourite_at_half = 0;   // top-ranked horse when the leader passed 50 %
  int32_t winner = 0;              // the eventual winner
  double winner_at_half = 0.0;     // winner's probability at 50 %
  double winner_late = 0.0;        // winner's probability at 90 %
};

// Among traces whose favourite at 50 % is not the winner, the one where the
// winner's probability rose the most between 50 % and 90 % (by at least
// `min_rise`). nullopt when no race qualifies.
std::optional<LateSurge> find_late_surge_race(std::span<const RaceTrace> traces, double min_rise = 0.2);

// The demo's late-surge chart (the report's and the web page's).
struct LateSurgeChart {
  LateSurge surge;  // surge.trace_index indexes the traces searched
  std::string svg;  // render_win_probability_svg() of that race, titled with the surge
};

// The race of find_late_surge_race() with a rise of at least 0.2, else 0.1,
// else any, charted; nullopt when no race qualifies.
std::optional<LateSurgeChart> late_surge_chart(std::span<const RaceTrace> traces);

}  // namespace streamml::demo
