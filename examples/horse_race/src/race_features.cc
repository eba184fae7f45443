// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "streamml/common/error.h"

namespace streamml::demo {
namespace {

// Column indices of the kLive row. Keep in sync with kLiveNames and docs/horse_race.md.
enum Column : size_t {
  kProgress = 0,
  kLeaderProgress,
  kPositionFrac,
  kGapLeader100m,
  kGapLeaderFrac,
  kGapAhead10m,
  kGapBehind10m,
  kSpeedRel,
  kSpeedTrend,
  kEtaGap10s,
  kFinished,
  kInvContestants,
  kContestants10,
  kFormMeanFinish,
  kFormBestFinish,
  kFormLastFinish,
  kFormRunCount,
  kWinRate,
  kWinRateRel,
  kFormMeanRel,
  kRestDays30,
  kRestOffOptimum,
  kWeightRel5kg,
  kNumColumns,
};

const std::vector<std::string> kLiveNames = {
    "progress",         "leader_progress",  "position_frac",    "gap_leader_100m", "gap_leader_frac",
    "gap_ahead_10m",    "gap_behind_10m",   "speed_rel",        "speed_trend_mps", "eta_gap_10s",
    "finished",         "inv_contestants",  "contestants_10",   "form_mean_finish", "form_best_finish",
    "form_last_finish", "form_runs",        "win_rate",         "win_rate_rel",     "form_mean_rel",
    "rest_days_30",     "rest_off_optimum", "weight_rel_5kg"};

// A debutant's form is treated as mid-field.
constexpr double kNoFormFinish = 0.55;
constexpr double kOptimalRestDays = 28.0;
constexpr double kMaxEtaGapS = 30.0;

float finite_or_zero(double x) { return std::isfinite(x) ? static_cast<float>(x) : 0.0f; }

struct FormSummary {
  double mean = kNoFormFinish;  // mean past finish / 10
  double best = kNoFormFinish;
  double last = kNoFormFinish;
};

FormSummary summarize_form(const FormRecord& form) {
  FormSummary s;
  double sum = 0.0;
  int runs = 0;
  int best = 0;
  for (int32_t f : form.last_finishes) {
    if (f <= 0) continue;
    sum += f;
    ++runs;
    best = best == 0 ? f : std::min(best, f);
  }
  if (runs > 0) {
    s.mean = sum / runs / 10.0;
    s.best = best / 10.0;
  }
  if (form.last_finishes[0] > 0) s.last = form.last_finishes[0] / 10.0;
  return s;
}

}  // namespace

const std::vector<std::string>& feature_names(FeatureSet set) {
  static const std::vector<std::string> kFormNames = [] {
    std::vector<std::string> names;
    for (size_t i : form_feature_indices()) names.push_back(kLiveNames[i]);
    return names;
  }();
  return set == FeatureSet::kLive ? kLiveNames : kFormNames;
}

const std::vector<size_t>& form_feature_indices() {
  static const std::vector<size_t> kIndices = [] {
    std::vector<size_t> idx(kNumColumns - kInvContestants);
    std::iota(idx.begin(), idx.end(), size_t{kInvContestants});
    return idx;
  }();
  return kIndices;
}

FeatureMatrix select_columns(const FeatureMatrix& m, std::span<const size_t> columns) {
  FeatureMatrix out;
  out.rows = m.rows;
  out.cols = columns.size();
  out.horses = m.horses;
  out.values.reserve(out.rows * out.cols);
  for (size_t r = 0; r < m.rows; ++r) {
    for (size_t c : columns) out.values.push_back(m.at(r, c));
  }
  return out;
}

bool RaceFeatureState::observe(const Telemetry& record) {
  if (!started_) {
    started_ = true;
    race_id_ = record.race_id;
  } else if (record.race_id != race_id_) {
    return false;
  }
  auto [it, inserted] = horses_.try_emplace(record.horse);
  HorseHistory& h = it->second;
  if (!inserted) {
    if (record.time_s <= h.latest.time_s) return false;
    h.speeds.push_back(h.latest.speed_mps);
    if (h.speeds.size() > kTrendWindow) h.speeds.pop_front();
  }
  h.latest = record;
  ++records_;
  return true;
}

FeatureMatrix RaceFeatureState::next_tick(const Tick& field) {
  for (const Telemetry& t : field) observe(t);
  return features_for_tick(field, this);
}

Tick RaceFeatureState::field() const {
  Tick out;
  out.reserve(horses_.size());
  for (const auto& [number, h] : horses_) out.push_back(h.latest);
  return out;
}

float RaceFeatureState::speed_trend(int32_t horse) const {
  const auto it = horses_.find(horse);
  if (it == horses_.end() || it->second.speeds.empty()) return 0.0f;
  const auto& speeds = it->second.speeds;
  const double mean = std::accumulate(speeds.begin(), speeds.end(), 0.0) / static_cast<double>(speeds.size());
  if (it->second.latest.finished) return 0.0f;
  return finite_or_zero(it->second.latest.speed_mps - mean);
}

FeatureMatrix features_for_tick(const Tick& field, const RaceFeatureState* state, FeatureSet set) {
  FeatureMatrix m;
  m.rows = field.size();
  m.cols = kNumColumns;
  m.values.assign(m.rows * m.cols, 0.0f);
  m.horses.reserve(m.rows);
  if (field.empty()) {
    if (set == FeatureSet::kFormOnly) return select_columns(m, form_feature_indices());
    return m;
  }

  // Field-level quantities.
  const auto n = static_cast<double>(field.size());
  double leader_distance = 0.0;
  double race_distance = 0.0;
  double speed_sum = 0.0;
  int running = 0;
  double win_rate_sum = 0.0;
  double form_mean_sum = 0.0;
  double weight_sum = 0.0;
  double min_eta = kMaxEtaGapS * 1e3;
  std::vector<FormSummary> forms(field.size());
  std::vector<double> eta(field.size(), 0.0);
  for (size_t i = 0; i < field.size(); ++i) {
    const Telemetry& t = field[i];
    leader_distance = std::max(leader_distance, t.distance_m);
    race_distance = std::max(race_distance, t.race_distance_m());
    if (!t.finished) {
      speed_sum += t.speed_mps;
      ++running;
      eta[i] = t.remaining_m / std::max(t.speed_mps, 1.0);
    }
    min_eta = std::min(min_eta, eta[i]);
    forms[i] = summarize_form(t.form);
    win_rate_sum += t.form.win_rate;
    form_mean_sum += forms[i].mean;
    weight_sum += t.form.weight_kg;
  }
  if (race_distance <= 0.0) race_distance = 1.0;
  const double mean_speed = running > 0 ? speed_sum / running : 0.0;

  // Horses in distance order (finished first), to find the gaps ahead and behind.
  std::vector<size_t> order(field.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (field[a].distance_m != field[b].distance_m) return field[a].distance_m > field[b].distance_m;
    return field[a].position < field[b].position;
  });
  std::vector<double> gap_ahead(field.size(), 0.0);
  std::vector<double> gap_behind(field.size(), 0.0);
  for (size_t k = 0; k < order.size(); ++k) {
    if (k > 0) gap_ahead[order[k]] = field[order[k - 1]].distance_m - field[order[k]].distance_m;
    if (k + 1 < order.size()) gap_behind[order[k]] = field[order[k]].distance_m - field[order[k + 1]].distance_m;
  }

  const double contestants = std::max<double>(n, field.front().contestants);
  for (size_t i = 0; i < field.size(); ++i) {
    const Telemetry& t = field[i];
    float* row = m.values.data() + i * m.cols;
    m.horses.push_back(t.horse);
    const double gap_leader = leader_distance - t.distance_m;
    row[kProgress] = finite_or_zero(t.distance_m / race_distance);
    row[kLeaderProgress] = finite_or_zero(leader_distance / race_distance);
    row[kPositionFrac] = contestants > 1 ? finite_or_zero((std::clamp<double>(t.position, 1, contestants) - 1) /
                                                          (contestants - 1))
                                         : 0.0f;
    row[kGapLeader100m] = finite_or_zero(gap_leader / 100.0);
    row[kGapLeaderFrac] = finite_or_zero(gap_leader / race_distance);
    row[kGapAhead10m] = finite_or_zero(gap_ahead[i] / 10.0);
    row[kGapBehind10m] = finite_or_zero(gap_behind[i] / 10.0);
    row[kSpeedRel] = (!t.finished && mean_speed > 0.0) ? finite_or_zero(t.speed_mps / mean_speed - 1.0) : 0.0f;
    row[kSpeedTrend] = state != nullptr ? state->speed_trend(t.horse) : 0.0f;
    row[kEtaGap10s] = finite_or_zero(std::clamp(eta[i] - min_eta, 0.0, kMaxEtaGapS) / 10.0);
    row[kFinished] = t.finished ? 1.0f : 0.0f;
    row[kInvContestants] = finite_or_zero(1.0 / contestants);
    row[kContestants10] = finite_or_zero(contestants / 10.0);
    row[kFormMeanFinish] = finite_or_zero(forms[i].mean);
    row[kFormBestFinish] = finite_or_zero(forms[i].best);
    row[kFormLastFinish] = finite_or_zero(forms[i].last);
    row[kFormRunCount] = static_cast<float>(t.form.runs()) / static_cast<float>(kFormRuns);
    row[kWinRate] = finite_or_zero(t.form.win_rate);
    row[kWinRateRel] = finite_or_zero(t.form.win_rate - win_rate_sum / n);
    row[kFormMeanRel] = finite_or_zero(forms[i].mean - form_mean_sum / n);
    row[kRestDays30] = finite_or_zero(t.form.rest_days / 30.0);
    row[kRestOffOptimum] =
        finite_or_zero(std::max(0.0, std::abs(t.form.rest_days - kOptimalRestDays) - 14.0) / 30.0);
    row[kWeightRel5kg] = finite_or_zero((t.form.weight_kg - weight_sum / n) / 5.0);
  }
  if (set == FeatureSet::kFormOnly) return select_columns(m, form_feature_indices());
  return m;
}

TrainingRows training_rows(const std::vector<Tick>& ticks, const RaceResult& result, FeatureSet set,
                           size_t tick_stride) {
  if (tick_stride == 0) throw ConfigError("training_rows: tick_stride must be >= 1");
  TrainingRows out;
  out.features.cols = feature_names(set).size();
  RaceFeatureState state;
  for (size_t k = 0; k < ticks.size(); ++k) {
    const Tick& tick = ticks[k];
    for (const Telemetry& t : tick) state.observe(t);
    const bool use = k % tick_stride == 0 || k + 1 == ticks.size();
    if (!use || tick.empty()) continue;
    FeatureMatrix m = features_for_tick(tick, &state, set);
    out.group_begin.push_back(out.features.rows);
    out.time_s.push_back(tick.front().time_s);
    for (size_t i = 0; i < tick.size(); ++i) {
      const int32_t position = result.position_of(tick[i].horse);
      if (position == 0) {
        throw InputError(fmt::format("race {}: horse {} at t={}s is not in the result", result.race_id, tick[i].horse,
                                     tick[i].time_s));
      }
      out.win.push_back(position == 1 ? 1.0f : 0.0f);
      out.finish_position.push_back(position);
    }
    out.features.values.insert(out.features.values.end(), m.values.begin(), m.values.end());
    out.features.horses.insert(out.features.horses.end(), m.horses.begin(), m.horses.end());
    out.features.rows += m.rows;
  }
  out.group_begin.push_back(out.features.rows);
  return out;
}

}  // namespace streamml::demo
