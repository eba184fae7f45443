// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_chart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "horse_race/race_predictors.h"
#include "streamml/common/error.h"
#include "streamml/common/svg.h"

namespace streamml::demo {
namespace {

// Minimal XML well-formedness check: balanced, properly nested tags, quoted
// attributes, no stray '<' or '&' in text. Returns "" when well-formed.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> stack;
  size_t i = 0;
  size_t elements = 0;
  auto check_text = [&](size_t from, size_t to) -> std::string {
    for (size_t j = from; j < to; ++j) {
      if (xml[j] == '&') {
        const size_t semi = xml.find(';', j);
        if (semi == std::string::npos || semi > to) return "bare '&' at " + std::to_string(j);
        const std::string entity = xml.substr(j, semi - j + 1);
        if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&apos;") {
          return "unknown entity " + entity;
        }
      }
    }
    return "";
  };
  while (i < xml.size()) {
    const size_t lt = xml.find('<', i);
    if (lt == std::string::npos) {
      if (auto p = check_text(i, xml.size()); !p.empty()) return p;
      break;
    }
    if (auto p = check_text(i, lt); !p.empty()) return p;
    if (xml.compare(lt, 2, "<?") == 0) {
      const size_t end = xml.find("?>", lt);
      if (end == std::string::npos) return "unterminated declaration";
      i = end + 2;
      continue;
    }
    const size_t gt = xml.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag at " + std::to_string(lt);
    std::string tag = xml.substr(lt + 1, gt - lt - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside tag at " + std::to_string(lt);
    // Attribute values must be quoted: count quotes.
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "unbalanced quotes in <" + tag + ">";
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) return "mismatched </" + name + ">";
      stack.pop_back();
    } else {
      const bool self_closing = !tag.empty() && tag.back() == '/';
      const std::string name = tag.substr(0, tag.find_first_of(" \n\t/"));
      if (name.empty()) return "empty tag name";
      if (elements++ == 0 && name != "svg") return "root element is " + name;
      if (!self_closing) stack.push_back(name);
    }
    i = gt + 1;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return "";
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

std::vector<RaceTrace> leader_traces(int races) {
  RaceSimulator sim(RaceSimulatorOptions{.seed = 31});
  std::vector<RaceTrace> traces;
  for (int i = 0; i < races; ++i) {
    const Race race = sim.next();
    traces.push_back(trace_race(race.ticks, race.result, leader_predictor(), /*tick_stride=*/4));
  }
  return traces;
}

TEST(RaceChart, SvgIsWellFormedWithOneLinePerHorseLegendAndTitle) {
  const std::vector<RaceTrace> traces = leader_traces(1);
  const RaceTrace& trace = traces.front();
  SvgChartOptions options;
  options.title = "Race <1> & friends";
  const std::string svg = render_win_probability_svg(trace, options);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count(svg, "<polyline"), trace.horses.size());
  EXPECT_NE(svg.find("Race &lt;1&gt; &amp; friends"), std::string::npos) << "title is escaped";
  EXPECT_NE(svg.find(">#" + std::to_string(trace.winner) + " (winner)</text>"), std::string::npos);
  EXPECT_NE(svg.find("race time (s)"), std::string::npos);
  EXPECT_NE(svg.find("win probability"), std::string::npos);
  EXPECT_NE(svg.find(">50%</text>"), std::string::npos) << "progress marker";
  // Every polyline has one point per tick.
  const size_t first = svg.find("points=\"");
  const size_t end = svg.find('"', first + 8);
  const std::string points = svg.substr(first + 8, end - first - 8);
  EXPECT_EQ(count(points, ",") , trace.ticks.size());
}

// The stroke colours of the horses' lines, in legend order.
std::vector<std::string> line_colours(const std::string& svg) {
  std::vector<std::string> colours;
  for (size_t pos = svg.find("<polyline stroke=\""); pos != std::string::npos;
       pos = svg.find("<polyline stroke=\"", pos + 1)) {
    colours.push_back(svg.substr(pos + 18, svg.find('"', pos + 18) - pos - 18));
  }
  return colours;
}

TEST(RaceChart, LegendExplainsTheDashedProgressMarkers) {
  const std::vector<RaceTrace> traces = leader_traces(1);
  const std::string svg = render_win_probability_svg(traces.front());
  const size_t legend = svg.find("<g class=\"legend\">");
  ASSERT_NE(legend, std::string::npos);
  // After the horses: a dashed sample in the markers' style, saying what the lines are.
  const size_t entry = svg.find(">race progress:</text>", legend);
  ASSERT_NE(entry, std::string::npos) << svg;
  EXPECT_NE(svg.rfind(R"(stroke="#888888" stroke-width="1.5" stroke-dasharray="4 4")", entry), std::string::npos);
  EXPECT_NE(svg.find(">leader past 25/50/75/90%</text>", entry), std::string::npos);
  EXPECT_NE(svg.find(R"(<g class="progress-marks" stroke="#888888" stroke-width="1.5" stroke-dasharray="4 4")"),
            std::string::npos);

  SvgChartOptions unmarked;
  unmarked.mark_progress = false;
  const std::string plain = render_win_probability_svg(traces.front(), unmarked);
  EXPECT_EQ(plain.find("race progress"), std::string::npos);
  EXPECT_EQ(plain.find("progress-marks"), std::string::npos);
}

TEST(RaceChart, TheWinnerIsBoldAndTheOthersLighterInDistinctColours) {
  const std::vector<RaceTrace> traces = leader_traces(3);
  for (const RaceTrace& trace : traces) {
    const std::string svg = render_win_probability_svg(trace);
    const std::vector<std::string> colours = line_colours(svg);
    ASSERT_EQ(colours.size(), trace.horses.size());
    EXPECT_EQ(std::set<std::string>(colours.begin(), colours.end()).size(), colours.size()) << "one colour each";
    // Lines: the winner's thick and opaque, drawn last (on top); the others thin and translucent.
    const std::string winner_colour =
        std::string(svg::palette_colour(static_cast<size_t>(
            std::find(trace.horses.begin(), trace.horses.end(), trace.winner) - trace.horses.begin())));
    EXPECT_EQ(colours.back(), winner_colour);
    EXPECT_EQ(count(svg, R"(stroke-width="3.5" points=)"), 1u);
    EXPECT_EQ(count(svg, R"(stroke-width="1.5" stroke-opacity="0.55" points=)"), trace.horses.size() - 1);
    EXPECT_NE(svg.find(R"(font-weight="bold">#)" + std::to_string(trace.winner) + " (winner)</text>"),
              std::string::npos);
    EXPECT_EQ(count(svg, R"(font-weight="bold">#)"), 1u) << "only the winner's legend entry is bold";
  }
}

TEST(RaceChart, TitleIsAPanelTitle) {
  const std::vector<RaceTrace> traces = leader_traces(1);
  SvgChartOptions options;
  options.title = "Race 1";
  EXPECT_NE(render_win_probability_svg(traces.front(), options).find(svg::panel_title(860 / 2.0, 24, "Race 1")),
            std::string::npos);
}

TEST(RaceChart, DefaultTitleAndSizeValidation) {
  const std::vector<RaceTrace> traces = leader_traces(1);
  const std::string svg = render_win_probability_svg(traces.front());
  EXPECT_NE(svg.find("Race " + std::to_string(traces.front().race_id) + ": win probability over race time"),
            std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
  SvgChartOptions tiny;
  tiny.width = 10;
  EXPECT_THROW(render_win_probability_svg(traces.front(), tiny), ConfigError);
  EXPECT_EQ(xml_problem(render_win_probability_svg(RaceTrace{})), "") << "an empty trace still renders";
}

TEST(RaceChart, FindsALateSurgeRace) {
  const std::vector<RaceTrace> traces = leader_traces(40);
  const auto surge = find_late_surge_race(traces);
  ASSERT_TRUE(surge.has_value()) << "with the leader baseline, a lead change after halfway qualifies";
  const RaceTrace& t = traces[surge->trace_index];
  EXPECT_EQ(surge->winner, t.winner);
  EXPECT_NE(surge->favourite_at_half, t.winner);
  EXPECT_EQ(t.ranking(t.tick_at_progress(0.5)).front(), surge->favourite_at_half);
  EXPECT_GE(surge->winner_late - surge->winner_at_half, 0.2);

  // Hand-made: only the second trace qualifies.
  RaceTrace steady;
  steady.winner = 1;
  steady.horses = {1, 2};
  for (double progress : {0.0, 0.5, 0.9}) {
    steady.ticks.push_back(TickPrediction{progress * 100, progress, {0.7, 0.3}, {1, 2}, 0});
  }
  RaceTrace surging = steady;
  surging.winner = 2;
  surging.ticks[1].probabilities = {0.8, 0.2};
  surging.ticks[2].probabilities = {0.3, 0.7};
  const std::vector<RaceTrace> hand = {steady, surging};
  const auto found = find_late_surge_race(hand);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->trace_index, 1u);
  EXPECT_EQ(found->favourite_at_half, 1);
  EXPECT_DOUBLE_EQ(found->winner_at_half, 0.2);
  EXPECT_DOUBLE_EQ(found->winner_late, 0.7);
  EXPECT_FALSE(find_late_surge_race(hand, /*min_rise=*/0.6).has_value());
}

}  // namespace
}  // namespace streamml::demo
