// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Evaluation of win predictors on live races. A RaceTrace is what any
// predictor said during one race (win probabilities at each tick) plus the
// true winner; evaluate_predictor() turns many traces into accuracy at fixed
// points of race progress, and render_report() compares predictors in a
// Markdown or plain-text table.
//
// Progress points: for a fraction f, the tick used is the first tick at which
// the leader's progress (leader distance / race distance) reaches f; f = 0 is
// the first tick. A race whose trace never reaches f is left out of that
// point's count. At each point:
//   - winner accuracy: the top-ranked horse is the eventual winner;
//   - top-3 hit rate: the winner is among the 3 top-ranked horses;
//   - winner probability: mean probability given to the eventual winner.
// Ranking is by probability, ties going to the better current position.
//
// make_demo_report() is the demo's report (step 6 of race_demo.h): the
// delivered streaming-model traces against baselines replayed on the same
// races, the update latency and the late-surge chart, as Markdown and text.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "horse_race/race.h"
#include "horse_race/race_features.h"

namespace streamml::demo {

// A predictor's output at one tick of one race.
struct TickPrediction {
  double time_s = 0.0;                // race time
  double leader_progress = 0.0;       // leader distance / race distance, 0..1
  std::vector<double> probabilities;  // aligned with RaceTrace::horses, sums to 1
  std::vector<int32_t> positions;     // current positions, aligned with RaceTrace::horses
  double latency_us = 0.0;            // time the predictor took for this tick (0 = not measured)
};

// Everything a predictor said during one race.
struct RaceTrace {
  int64_t race_id = 0;           // race
  double race_distance_m = 0.0;  // race distance
  int32_t winner = 0;            // true winner's horse number
  std::vector<int32_t> horses;   // horse numbers, the column order of every tick
  std::vector<TickPrediction> ticks;  // in time order

  // Probability of `horse` at tick k (0 when the horse is unknown).
  double probability(size_t k, int32_t horse) const;
  // Horse numbers of tick k ranked best first (see file comment for ties).
  std::vector<int32_t> ranking(size_t k) const;
  // Index of the first tick whose leader progress reaches `fraction`
  // (0 for fraction <= 0), or ticks.size() when none does.
  size_t tick_at_progress(double fraction) const;
};

// The progress points of the standard report: 0, 25, 50, 75 and 90 %.
const std::vector<double>& default_progress_points();

// One predictor's scores over a set of races.
struct PredictorReport {
  std::string name;                         // predictor name, shown in tables
  size_t races = 0;                         // traces evaluated
  std::vector<double> progress_points;      // fractions evaluated
  std::vector<size_t> counted;              // races that reached each point
  std::vector<double> winner_accuracy;      // per point, 0..1
  std::vector<double> top3_rate;            // per point, 0..1
  std::vector<double> winner_probability;   // per point, mean probability of the true winner
  std::vector<double> latencies_us;         // every measured per-tick latency
};

// Evaluates `traces` at `points` (fractions in [0, 1]; ConfigError otherwise).
PredictorReport evaluate_predictor(std::string name, std::span<const RaceTrace> traces,
                                   std::span<const double> points = default_progress_points());

enum class ReportFormat { kMarkdown, kText };

// Tables comparing the predictors (winner accuracy, top-3 hit rate, winner
// probability by progress point, then scoring latency when measured). All
// reports must use the same progress points (ConfigError otherwise).
std::string render_report(std::span<const PredictorReport> reports, ReportFormat format = ReportFormat::kMarkdown);

// Latency statistics in microseconds.
struct LatencySummary {
  size_t count = 0;    // samples
  double p50_us = 0;   // median
  double p99_us = 0;   // 99th percentile
  double max_us = 0;   // largest sample
  double mean_us = 0;  // arithmetic mean
};

// Nearest-rank percentile (q in [0, 100]) of `samples_us`; 0 for no samples.
double latency_percentile(std::span<const double> samples_us, double q);
LatencySummary summarize_latency(std::span<const double> samples_us);

struct DemoReport {
  std::vector<PredictorReport> predictors;  // streaming model, leader, pre-race model, form heuristic
  LatencySummary latency;                   // tick produced -> ranking delivered
  bool model_beats_baselines = false;       // streaming > leader and > pre-race at every point from 25 %
  std::optional<int64_t> chart_race;        // race of the late-surge chart
  std::string markdown;                     // report.md
  std::string text;                         // for the terminal
  std::string chart_svg;                    // late_surge.svg ("" when no race had a late surge)
};

// Evaluates the delivered streaming-model traces against the baselines
// ("current leader wins", the pre-race model scored by `form_scorer` on the
// form-only features, the form heuristic) replayed on the same races of
// `live_races`; traces of races not in `live_races` are left out of the
// baselines. `latencies_us` are the end-to-end latencies; `settings` lines
// go to the report's header.
DemoReport make_demo_report(const std::vector<RaceTrace>& model_traces, const std::vector<Race>& live_races,
                            const LogitScorer& form_scorer, std::span<const double> latencies_us,
                            const std::vector<std::string>& settings);

}  // namespace streamml::demo
