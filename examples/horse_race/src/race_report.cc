// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>

#include "horse_race/race_chart.h"
#include "horse_race/race_predictors.h"
#include "horse_race/race_ranking.h"
#include "horse_race/win_probability.h"
#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

constexpr size_t kTopK = 3;

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100.0 * fraction); }

std::string ms_text(double us) { return fmt::format("{:.2f} ms", us / 1000.0); }

std::string point_label(double fraction) { return fmt::format("{:g}%", 100.0 * fraction); }

// A table: header row plus body rows; column 0 left-aligned, the rest right-aligned.
using Table = std::vector<std::vector<std::string>>;

void render_table(std::string& out, const std::string& title, const Table& table, ReportFormat format) {
  if (table.empty()) return;
  const size_t cols = table.front().size();
  if (format == ReportFormat::kMarkdown) {
    out += fmt::format("### {}\n\n", title);
    out += fmt::format("| {} |\n", fmt::join(table.front(), " | "));
    out += "|---";
    for (size_t c = 1; c < cols; ++c) out += "|---:";
    out += "|\n";
    for (size_t r = 1; r < table.size(); ++r) out += fmt::format("| {} |\n", fmt::join(table[r], " | "));
    out += "\n";
    return;
  }
  std::vector<size_t> width(cols, 0);
  for (const auto& row : table) {
    for (size_t c = 0; c < cols; ++c) width[c] = std::max(width[c], row[c].size());
  }
  out += title + "\n";
  for (size_t r = 0; r < table.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < cols; ++c) {
      if (c > 0) line += "  ";
      line += c == 0 ? fmt::format("{:<{}}", table[r][c], width[c]) : fmt::format("{:>{}}", table[r][c], width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) {
      size_t total = 0;
      for (size_t c = 0; c < cols; ++c) total += width[c] + (c > 0 ? 2 : 0);
      out += std::string(total, '-') + "\n";
    }
  }
  out += "\n";
}

}  // namespace

double RaceTrace::probability(size_t k, int32_t horse) const {
  const auto it = std::find(horses.begin(), horses.end(), horse);
  if (it == horses.end() || k >= ticks.size()) return 0.0;
  const auto i = static_cast<size_t>(it - horses.begin());
  return i < ticks[k].probabilities.size() ? ticks[k].probabilities[i] : 0.0;
}

std::vector<int32_t> RaceTrace::ranking(size_t k) const {
  std::vector<int32_t> out;
  if (k >= ticks.size()) return out;
  const TickPrediction& tick = ticks[k];
  for (size_t i : rank_by_probability(tick.probabilities, tick.positions)) {
    if (i < horses.size()) out.push_back(horses[i]);
  }
  return out;
}

size_t RaceTrace::tick_at_progress(double fraction) const {
  if (ticks.empty()) return 0;
  if (fraction <= 0.0) return 0;
  for (size_t k = 0; k < ticks.size(); ++k) {
    if (ticks[k].leader_progress >= fraction) return k;
  }
  return ticks.size();
}

const std::vector<double>& default_progress_points() {
  static const std::vector<double> kPoints = {0.0, 0.25, 0.5, 0.75, 0.9};
  return kPoints;
}

PredictorReport evaluate_predictor(std::string name, std::span<const RaceTrace> traces,
                                   std::span<const double> points) {
  for (double p : points) {
    if (!(p >= 0.0 && p <= 1.0)) {
      throw ConfigError(fmt::format("report: progress point {} is outside [0, 1]", p));
    }
  }
  PredictorReport report;
  report.name = std::move(name);
  report.races = traces.size();
  report.progress_points.assign(points.begin(), points.end());
  const size_t np = points.size();
  report.counted.assign(np, 0);
  report.winner_accuracy.assign(np, 0.0);
  report.top3_rate.assign(np, 0.0);
  report.winner_probability.assign(np, 0.0);
  for (const RaceTrace& trace : traces) {
    for (const TickPrediction& tick : trace.ticks) {
      if (tick.latency_us > 0.0) report.latencies_us.push_back(tick.latency_us);
    }
    for (size_t p = 0; p < np; ++p) {
      const size_t k = trace.tick_at_progress(points[p]);
      if (k >= trace.ticks.size()) continue;
      const std::vector<int32_t> ranked = trace.ranking(k);
      if (ranked.empty()) continue;
      ++report.counted[p];
      if (ranked.front() == trace.winner) report.winner_accuracy[p] += 1.0;
      const auto top = ranked.begin() + static_cast<std::ptrdiff_t>(std::min(kTopK, ranked.size()));
      if (std::find(ranked.begin(), top, trace.winner) != top) report.top3_rate[p] += 1.0;
      report.winner_probability[p] += trace.probability(k, trace.winner);
    }
  }
  for (size_t p = 0; p < np; ++p) {
    if (report.counted[p] == 0) continue;
    const auto n = static_cast<double>(report.counted[p]);
    report.winner_accuracy[p] /= n;
    report.top3_rate[p] /= n;
    report.winner_probability[p] /= n;
  }
  return report;
}

std::string render_report(std::span<const PredictorReport> reports, ReportFormat format) {
  std::string out;
  if (reports.empty()) return out;
  const auto& points = reports.front().progress_points;
  for (const auto& r : reports) {
    if (r.progress_points != points) {
      throw ConfigError(fmt::format("report: predictor '{}' was evaluated at other progress points", r.name));
    }
  }
  auto metric_table = [&](auto metric) {
    Table table;
    std::vector<std::string> header = {"predictor", "races"};
    for (double p : points) header.push_back(point_label(p));
    table.push_back(std::move(header));
    for (const auto& r : reports) {
      std::vector<std::string> row = {r.name, std::to_string(r.races)};
      for (size_t p = 0; p < points.size(); ++p) row.push_back(r.counted[p] == 0 ? "-" : metric(r, p));
      table.push_back(std::move(row));
    }
    return table;
  };
  render_table(out, "Winner predicted correctly, by leader progress",
               metric_table([](const PredictorReport& r, size_t p) { return percent(r.winner_accuracy[p]); }),
               format);
  render_table(out, "Winner among the top 3 predicted, by leader progress",
               metric_table([](const PredictorReport& r, size_t p) { return percent(r.top3_rate[p]); }), format);
  render_table(out, "Mean probability given to the winner, by leader progress",
               metric_table([](const PredictorReport& r, size_t p) {
                 return fmt::format("{:.3f}", r.winner_probability[p]);
               }),
               format);
  const bool any_latency =
      std::any_of(reports.begin(), reports.end(), [](const auto& r) { return !r.latencies_us.empty(); });
  if (any_latency) {
    Table table = {{"predictor", "updates", "p50 us", "p99 us", "max us"}};
    for (const auto& r : reports) {
      const LatencySummary s = summarize_latency(r.latencies_us);
      if (s.count == 0) {
        table.push_back({r.name, "0", "-", "-", "-"});
      } else {
        table.push_back({r.name, std::to_string(s.count), fmt::format("{:.1f}", s.p50_us),
                         fmt::format("{:.1f}", s.p99_us), fmt::format("{:.1f}", s.max_us)});
      }
    }
    render_table(out, "Scoring latency per update", table, format);
  }
  return out;
}

double latency_percentile(std::span<const double> samples_us, double q) {
  if (samples_us.empty()) return 0.0;
  std::vector<double> sorted(samples_us.begin(), samples_us.end());
  std::sort(sorted.begin(), sorted.end());
  const double clamped = std::clamp(q, 0.0, 100.0);
  // Nearest rank: the smallest value with at least q% of the samples at or below it.
  const auto rank = static_cast<size_t>(std::ceil(clamped / 100.0 * static_cast<double>(sorted.size())));
  return sorted[rank == 0 ? 0 : rank - 1];
}

LatencySummary summarize_latency(std::span<const double> samples_us) {
  LatencySummary s;
  s.count = samples_us.size();
  if (s.count == 0) return s;
  s.p50_us = latency_percentile(samples_us, 50.0);
  s.p99_us = latency_percentile(samples_us, 99.0);
  s.max_us = *std::max_element(samples_us.begin(), samples_us.end());
  s.mean_us = std::accumulate(samples_us.begin(), samples_us.end(), 0.0) / static_cast<double>(s.count);
  return s;
}

DemoReport make_demo_report(const std::vector<RaceTrace>& model_traces, const std::vector<Race>& live_races,
                            const LogitScorer& form_scorer, std::span<const double> latencies_us,
                            const std::vector<std::string>& settings) {
  constexpr size_t kConstantStride = 1u << 20;  // form-only predictions do not change during a race
  std::map<int64_t, const Race*> by_id;
  for (const Race& race : live_races) by_id[race.race_id] = &race;
  std::vector<RaceTrace> leader_traces;
  std::vector<RaceTrace> form_traces;
  std::vector<RaceTrace> heuristic_traces;
  const WinPredictor leader = leader_predictor();
  const WinPredictor form_model = scorer_predictor(form_scorer, FeatureSet::kFormOnly);
  const WinPredictor heuristic = form_heuristic_predictor();
  for (const RaceTrace& trace : model_traces) {
    const auto it = by_id.find(trace.race_id);
    if (it == by_id.end()) continue;
    const Race& race = *it->second;
    leader_traces.push_back(trace_race(race.ticks, race.result, leader));
    form_traces.push_back(trace_race(race.ticks, race.result, form_model, kConstantStride));
    heuristic_traces.push_back(trace_race(race.ticks, race.result, heuristic, kConstantStride));
  }

  DemoReport report;
  report.predictors.push_back(evaluate_predictor("streaming model", model_traces));
  report.predictors.push_back(evaluate_predictor("current leader wins", leader_traces));
  report.predictors.push_back(evaluate_predictor("pre-race model (form only)", form_traces));
  report.predictors.push_back(evaluate_predictor("form heuristic", heuristic_traces));
  for (auto& p : report.predictors) p.latencies_us.clear();  // the latency that matters is end to end, below
  report.latency = summarize_latency(latencies_us);

  const PredictorReport& model = report.predictors[0];
  report.model_beats_baselines = !model_traces.empty();
  for (size_t k = 0; k < model.progress_points.size(); ++k) {
    if (model.progress_points[k] < 0.25) continue;
    const bool beats = model.winner_accuracy[k] > report.predictors[1].winner_accuracy[k] &&
                       model.winner_accuracy[k] > report.predictors[2].winner_accuracy[k];
    report.model_beats_baselines = report.model_beats_baselines && beats;
  }

  const std::optional<LateSurgeChart> chart = late_surge_chart(model_traces);
  std::string chart_text = "No race had a late surge that changed the prediction: no chart.\n";
  if (chart) {
    const LateSurge& surge = chart->surge;
    const RaceTrace& trace = model_traces[surge.trace_index];
    report.chart_race = trace.race_id;
    report.chart_svg = chart->svg;
    chart_text = fmt::format(
        "Race {} ({:.0f} m, {} runners): at 50 % the model favoured #{}; the winner #{} had {} then and {} at 90 %.\n",
        trace.race_id, trace.race_distance_m, trace.horses.size(), surge.favourite_at_half, surge.winner,
        percent(surge.winner_at_half), percent(surge.winner_late));
  }

  const std::string latency_line =
      fmt::format("{} rankings: p50 {}, p99 {}, max {}, mean {}", report.latency.count, ms_text(report.latency.p50_us),
                  ms_text(report.latency.p99_us), ms_text(report.latency.max_us), ms_text(report.latency.mean_us));
  const std::string verdict =
      fmt::format("Streaming model beats both baselines (current leader, pre-race model) at every point from 25 %: {}",
                  report.model_beats_baselines ? "yes" : "NO");

  std::string md = "# streamml horse-race demo report\n\n";
  for (const std::string& s : settings) md += "- " + s + "\n";
  md += fmt::format("- races evaluated: {}\n\n", model_traces.size());
  md += "Winner accuracy: the top-ranked horse is the eventual winner, at the first tick where the leader has "
        "covered the given share of the distance. The streaming model's figures come from the rankings the "
        "service delivered to the rankings topic; the baselines are replayed on the same races.\n\n";
  md += render_report(report.predictors, ReportFormat::kMarkdown);
  md += "\n## Update latency\n\nFrom a tick produced to the live topic to its ranking delivered to the "
        "leaderboard consumer (wall clock, produce time carried in the `" +
        std::string(kProducedAtHeader) + "` header):\n\n";
  md += "| rankings | p50 | p99 | max | mean |\n|---:|---:|---:|---:|---:|\n";
  md += fmt::format("| {} | {} | {} | {} | {} |\n", report.latency.count, ms_text(report.latency.p50_us),
                    ms_text(report.latency.p99_us), ms_text(report.latency.max_us), ms_text(report.latency.mean_us));
  md += "\n## Late surge\n\n" + chart_text;
  if (chart) md += "\n![win probability over race time](late_surge.svg)\n";
  md += "\n## Verdict\n\n" + verdict + "\n";
  report.markdown = std::move(md);

  std::string text = render_report(report.predictors, ReportFormat::kText);
  text += "\nUpdate latency (tick produced -> ranking delivered): " + latency_line + "\n";
  text += "Late surge: " + chart_text;
  text += verdict + "\n";
  report.text = std::move(text);
  return report;
}

}  // namespace streamml::demo
