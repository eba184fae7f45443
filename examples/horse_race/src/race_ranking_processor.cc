// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "horse_race/race_ranking_processor.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "horse_race/leaderboard.h"
#include "horse_race/race_ranking.h"
#include "horse_race/race_record.h"
#include "horse_race/win_probability.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"

namespace streamml::demo {

RaceRankingProcessor::RaceRankingProcessor(LogitScorer scorer, FeatureSet set, RaceRankingOptions options)
    : scorer_(std::move(scorer)), set_(set), options_(std::move(options)) {
  if (!scorer_) throw ConfigError("RaceRankingProcessor: a scorer is required");
}

RaceRankingProcessor::RaceState& RaceRankingProcessor::race_for(int64_t race_id) {
  auto [it, inserted] = races_.try_emplace(race_id);
  it->second.last_used = ++clock_;
  if (inserted && races_.size() > std::max<size_t>(1, options_.max_races)) {
    const auto oldest = std::min_element(races_.begin(), races_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    log_warn("ranking service: forgetting race {} (more than {} races open)", oldest->first, options_.max_races);
    races_.erase(oldest);
  }
  return it->second;
}

void RaceRankingProcessor::process(const data::Batch& batch, std::vector<serve::ProcessResult>& results) {
  const auto start = std::chrono::steady_clock::now();
  results.assign(batch.size, serve::ProcessResult{});

  // Pass 1, in record order (state is sequential): update each race and compute its field's features.
  struct Pending {
    size_t row = 0;
    Tick field;
    RankingRecord ranking;
    size_t first_logit = 0;
  };
  std::vector<Pending> pending;
  pending.reserve(batch.size);
  FeatureMatrix all;
  all.cols = feature_names(set_).size();
  std::vector<int64_t> finished_races;
  for (size_t row = 0; row < batch.size; ++row) {
    const std::string where = row < batch.meta.size() ? batch.meta[row].location() : fmt::format("row {}", row);
    if (row >= batch.payloads.size()) {
      results[row].error = where + ": no payload";
      ++rejected_;
      continue;
    }
    Telemetry record;
    try {
      record = parse_telemetry(batch.payloads[row], where);
    } catch (const InputError& e) {
      results[row].error = e.what();
      ++rejected_;
      continue;
    }
    RaceState& race = race_for(record.race_id);
    if (!race.features.observe(record)) {
      results[row].error = fmt::format("{}: stale or duplicate record (race {}, horse {}, t={}s)", where,
                                       record.race_id, record.horse, record.time_s);
      ++rejected_;
      continue;
    }
    Pending p;
    p.row = row;
    p.field = race.features.field();
    FeatureMatrix features = features_for_tick(p.field, &race.features, FeatureSet::kLive);
    if (set_ != FeatureSet::kLive) features = select_columns(features, form_feature_indices());
    p.first_logit = all.rows;
    all.values.insert(all.values.end(), features.values.begin(), features.values.end());
    all.horses.insert(all.horses.end(), features.horses.begin(), features.horses.end());
    all.rows += features.rows;

    RankingRecord& r = p.ranking;
    r.race_id = record.race_id;
    r.time_s = record.time_s;
    r.horse = record.horse;
    r.contestants = record.contestants;
    r.update = ++race.updates;
    const bool all_reported = p.field.size() == static_cast<size_t>(record.contestants);
    r.tick_complete = all_reported && std::all_of(p.field.begin(), p.field.end(), [&](const Telemetry& t) {
                        return t.time_s == record.time_s;
                      });
    // The race is over with the tick at which the last horse finished: forget it after that tick's last record.
    if (r.tick_complete &&
        std::all_of(p.field.begin(), p.field.end(), [](const Telemetry& t) { return t.finished; })) {
      finished_races.push_back(record.race_id);
    }
    pending.push_back(std::move(p));
  }

  // Pass 2: one scorer call for every field of the batch.
  std::vector<float> logits;
  if (all.rows > 0) {
    logits = scorer_(all);
    if (logits.size() != all.rows) {
      throw Error(fmt::format("ranking service: the model returned {} scores for {} rows", logits.size(), all.rows));
    }
  }
  const double service_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(std::max<size_t>(1, batch.size));

  // Pass 3: probabilities within each field, ranking, output record.
  for (Pending& p : pending) {
    std::vector<double> probabilities;
    try {
      // The model scores every runner; the finish line overrides it for those that crossed it.
      probabilities = settle_finished(
          p.field, softmax_within_race(std::span<const float>(logits.data() + p.first_logit, p.field.size())));
    } catch (const InputError& e) {
      results[p.row].error = fmt::format("race {}: {}", p.ranking.race_id, e.what());
      ++rejected_;
      continue;
    }
    const LeaderboardView view = make_leaderboard_view(p.field, probabilities, 0.0, p.ranking.update);
    RankingRecord& r = p.ranking;
    r.race_distance_m = view.race_distance_m;
    r.leader_progress = view.leader_progress;
    r.service_us = service_us;
    const std::vector<size_t> order = rank_by_probability(probabilities, standings_of(p.field));
    r.entries.reserve(order.size());
    for (size_t i : order) r.entries.push_back(view.entries[i]);

    serve::OutputRecord out;
    const data::RecordMeta* meta = p.row < batch.meta.size() ? &batch.meta[p.row] : nullptr;
    if (meta != nullptr && meta->has_key) {
      out.key = meta->key;
    } else {
      out.key = race_record_key(r.race_id);
    }
    out.value = encode_ranking(r);
    if (meta != nullptr) {
      for (const auto& h : meta->headers) {
        if (h.name == kProducedAtHeader) out.headers.push_back(h);
      }
    }
    results[p.row].output = std::move(out);
    ++rankings_;
  }
  for (int64_t id : finished_races) races_.erase(id);
}

}  // namespace streamml::demo
