// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Drift detection and recovery of online learning on SEA streams, in
// process (OnlineTrainer over an InMemorySource: no broker, so the figures
// are the learner's and the detector's, not Kafka's):
//   1. detection delay of ADWIN (delta 0.002) after an abrupt SEA concept
//      change, median over the seeds, and alarms before the change;
//   2. false alarms on 100,000 stationary SEA records (seeds with any alarm);
//   3. recovery: records after the drift until the accuracy of the next
//      kRecoveryWindow records is back within 2 points of the accuracy of
//      the kRecoveryWindow records before the drift, per --on-drift action;
//   4. overhead: online training throughput (records per CPU second) with
//      prequential evaluation and ADWIN against none.
// The model is the docs' example: mlp:16, Adam, train's default lr 0.001 (--lr), batches of 64.
//
// bench-runs: 1
// (each run already takes medians over the seeds; about 2 minutes on 2 cores)
//
// Prints the tables, then `RESULT` lines for scripts/bench.sh.
//
// Usage: train_drift_bench [--seeds N] [--stationary RECORDS] [--lr RATE] [--actions "A B ..."]
//                          [--rounds N] [--only overhead]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "streamml/common/logging.h"
#include "streamml/data/concept_stream.h"
#include "streamml/data/in_memory_source.h"
#include "streamml/model/model.h"
#include "streamml/train/online_trainer.h"

namespace {

using namespace streamml;

constexpr int64_t kBatch = 64;
constexpr int64_t kDriftAt = 20000;
constexpr int64_t kRecords = 40000;
constexpr int64_t kRecoveryWindow = 500;

data::InMemorySource sea_source(uint64_t seed, int64_t records, std::vector<int64_t> drift_at,
                                std::vector<int> concepts, std::vector<float>* labels_out = nullptr) {
  data::ConceptStreamOptions o;
  o.seed = seed;
  o.drift_at = std::move(drift_at);
  o.sea_concepts = std::move(concepts);
  data::ConceptStream stream(o);
  std::vector<float> features, labels;
  std::vector<data::RecordMeta> meta;
  for (int64_t i = 0; i < records; ++i) {
    const data::ConceptSample s = stream.next();
    features.insert(features.end(), s.features.begin(), s.features.end());
    labels.push_back(static_cast<float>(s.label));
    data::RecordMeta m;
    m.topic = "sea";
    m.partition = 0;
    m.offset = i;
    meta.push_back(m);
  }
  if (labels_out != nullptr) *labels_out = labels;
  return data::InMemorySource(features, 3, labels, 1,
                              data::InMemorySourceOptions{.batch_size = static_cast<size_t>(kBatch)}, meta);
}

model::Model sea_model(uint64_t seed) {
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features.num_features = 3;
  config.spec = model::parse_model_spec("mlp:16");
  config.seed = seed;
  return model::Model::create(config);
}

// Per-record correctness (1 correct, 0 wrong, -1 not evaluated) and drifts.
class Recorder final : public train::Callback {
 public:
  explicit Recorder(const std::vector<float>& labels) : labels_(labels), correct_(labels.size(), -1) {}
  void on_predict_batch_end(const data::Batch& batch, const model::Predictions& p) override {
    for (size_t r = 0; r < p.size; ++r) {
      const auto offset = static_cast<size_t>(batch.meta[r].offset);
      correct_[offset] = p.classes[r] == static_cast<int64_t>(labels_[offset]) ? 1 : 0;
    }
  }
  void on_drift(train::TrainContext&, const train::DriftEvent& e) override { drifts.push_back(e.offset); }

  // Accuracy over [from, to).
  double accuracy(int64_t from, int64_t to) const {
    int64_t n = 0, ok = 0;
    for (int64_t i = from; i < to; ++i) {
      if (correct_[i] < 0) continue;
      ++n;
      ok += correct_[i];
    }
    return n ? static_cast<double>(ok) / static_cast<double>(n) : 0.0;
  }
  // Records after `drift` until [drift + t, drift + t + W) is within 2
  // points of [drift - W, drift); -1 when it never is.
  int64_t recovery(int64_t drift) const {
    const double before = accuracy(drift - kRecoveryWindow, drift);
    int64_t ok = 0;
    for (int64_t i = drift; i < drift + kRecoveryWindow; ++i) ok += correct_[i];
    for (int64_t t = 0; drift + t + kRecoveryWindow <= static_cast<int64_t>(correct_.size()); ++t) {
      if (static_cast<double>(ok) / kRecoveryWindow >= before - 0.02) return t;
      if (drift + t + kRecoveryWindow == static_cast<int64_t>(correct_.size())) break;
      ok += correct_[drift + t + kRecoveryWindow] - correct_[drift + t];
    }
    return -1;
  }
  std::vector<int64_t> drifts;

 private:
  const std::vector<float>& labels_;
  std::vector<int> correct_;
};

struct RunResult {
  std::vector<int64_t> drifts;
  int64_t recovery = -1;
  double accuracy_before = 0;
  double seconds = 0;
};

double g_learning_rate = 1e-3;  // train's default --lr

// CPU seconds of the whole process (every thread): on a shared machine the
// work done, unlike wall time, does not grow with the other jobs' load.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
std::vector<std::string> g_actions = {"log", "reset-optimizer", "boost-lr=10:50", "reset-model", "retrain-window=256"};

RunResult run(uint64_t seed, int64_t records, std::vector<int64_t> drift_at, std::vector<int> concepts,
              const std::string& action, bool evaluate, bool detect, const std::string& checkpoint) {
  std::vector<float> labels;
  data::InMemorySource source = sea_source(seed, records, drift_at, std::move(concepts), &labels);
  model::Model model = sea_model(seed);
  train::TrainOptions options;
  options.learning_rate = g_learning_rate;
  options.stats_mode = train::StatsMode::kFirstBatch;
  train::Trainer trainer(model, options);
  train::OnlineOptions online;
  online.checkpoint_path = checkpoint;
  online.checkpoint_every = 100;
  online.evaluate = evaluate;
  online.predict = evaluate;  // the recorder's per-record correctness
  online.drift.kind = detect ? train::DriftDetectorKind::kAdwin : train::DriftDetectorKind::kNone;
  online.on_drift = train::parse_drift_action(action);
  online.seed = seed;
  train::OnlineTrainer trainer_online(model, trainer, online);
  Recorder recorder(labels);
  train::Callbacks callbacks;
  if (evaluate) callbacks.push_back(&recorder);
  const double start = cpu_seconds();
  trainer_online.run(source, callbacks);
  RunResult result;
  result.seconds = cpu_seconds() - start;
  result.drifts = recorder.drifts;
  if (!drift_at.empty() && evaluate) {
    result.recovery = recorder.recovery(drift_at[0]);
    result.accuracy_before = recorder.accuracy(drift_at[0] - kRecoveryWindow, drift_at[0]);
  }
  return result;
}

// Median with -1 (never) counting as larger than every value.
std::string median(std::vector<double> v) {
  if (v.empty()) return "-";
  for (double& x : v) {
    if (x < 0) x = 1e300;
  }
  std::sort(v.begin(), v.end());
  const double m = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return m >= 1e299 ? "never" : fmt::format("{:.0f}", m);
}

// An action as a RESULT key: "boost-lr=10:50" -> "boost_lr_10_50".
std::string key_of(const std::string& action) {
  std::string out;
  for (char c : action) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string list(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += (out.empty() ? "" : " ") + (x < 0 ? std::string("never") : fmt::format("{:.0f}", x));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 10;
  int64_t stationary = 100000;
  int rounds = 5;
  bool overhead_only = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seeds") == 0) seeds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--stationary") == 0) stationary = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--lr") == 0) g_learning_rate = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0) overhead_only = std::strcmp(argv[i + 1], "overhead") == 0;
    if (std::strcmp(argv[i], "--actions") == 0) {
      g_actions.clear();
      std::string all = argv[i + 1];
      for (size_t pos = 0; pos <= all.size();) {
        size_t end = all.find(' ', pos);
        if (end == std::string::npos) end = all.size();
        if (end > pos) g_actions.push_back(all.substr(pos, end - pos));
        pos = end + 1;
      }
    }
  }
  streamml::set_log_level(streamml::LogLevel::kError);
  const std::string checkpoint =
      (std::filesystem::temp_directory_path() / fmt::format("drift-bench-{}.smlm", ::getpid())).string();

  // 1 and 3: abrupt SEA changes, per action.
  struct Change {
    const char* name;
    const char* key;
    std::vector<int> concepts;
  };
  const Change changes[] = {{"theta 8 -> 9 (SEA concepts 1 -> 2)", "sea_8_to_9", {0, 1}},
                            {"theta 7 -> 9.5 (SEA concepts 3 -> 4)", "sea_7_to_9_5", {2, 3}}};
  std::vector<std::string> results;
  std::printf("SEA, %lld records, drift at %lld, %d seeds, batch %lld, mlp:16 adam lr %g, ADWIN delta 0.002\n\n",
              static_cast<long long>(kRecords), static_cast<long long>(kDriftAt), seeds, static_cast<long long>(kBatch),
              g_learning_rate);
  for (const Change& change : changes) {
    if (overhead_only) break;
    std::printf("## %s\n\n", change.name);
    std::printf(
        "| --on-drift | detection delay, median (per seed) | seeds with an alarm before the drift | "
        "accuracy before | recovery records, median (per seed) |\n|---|---|---|---|---|\n");
    std::string result = fmt::format("RESULT drift_{} lr={}", change.key, g_learning_rate);
    double log_recovery = -1, best_recovery = -1;
    std::string best_action;
    for (const std::string& action_name : g_actions) {
      const char* action = action_name.c_str();
      std::vector<double> delays, recoveries, before;
      int early = 0;
      for (int seed = 1; seed <= seeds; ++seed) {
        RunResult r = run(static_cast<uint64_t>(seed), kRecords, {kDriftAt}, change.concepts, action, true, true, "");
        bool alarmed_early = false;
        double delay = -1;
        for (int64_t d : r.drifts) {
          if (d < kDriftAt) alarmed_early = true;
          if (d >= kDriftAt && delay < 0) delay = static_cast<double>(d - kDriftAt);
        }
        early += alarmed_early;
        delays.push_back(delay);
        recoveries.push_back(static_cast<double>(r.recovery));
        before.push_back(r.accuracy_before);
      }
      std::sort(before.begin(), before.end());
      if (action_name == g_actions.front()) {
        int detected = 0;
        for (double d : delays) detected += d >= 0;
        result += fmt::format(" delay_median={} detected_seeds={} early_alarm_seeds={} accuracy_before={:.3f}",
                              median(delays), detected, early, before[before.size() / 2]);
      }
      const std::string recovery = median(recoveries);
      result += fmt::format(" recovery_{}={}", key_of(action_name), recovery);
      const double r = recovery == "never" ? 1e300 : std::stod(recovery);
      if (action_name == "log") log_recovery = r;
      if (action_name != "log" && (best_recovery < 0 || r < best_recovery)) {
        best_recovery = r;
        best_action = key_of(action_name);
      }
      std::printf("| %s | %s (%s) | %d/%d | %.3f | %s (%s) |\n", action, median(delays).c_str(), list(delays).c_str(),
                  early, seeds, before[before.size() / 2], median(recoveries).c_str(), list(recoveries).c_str());
      std::fflush(stdout);
    }
    std::printf("\n");
    if (log_recovery > 0 && best_recovery > 0) {
      result += fmt::format(" best_action={} speedup_vs_log={:.2f} goal_speedup=2 verdict={}", best_action,
                            log_recovery / best_recovery, log_recovery / best_recovery >= 2 ? "pass" : "fail");
    }
    results.push_back(result);
  }

  // 2: stationary streams.
  if (!overhead_only) {
    int alarmed = 0;
    int64_t alarms = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
      RunResult r = run(static_cast<uint64_t>(100 + seed), stationary, {}, {0}, "log", true, true, "");
      alarmed += !r.drifts.empty();
      alarms += static_cast<int64_t>(r.drifts.size());
    }
    std::printf(
        "## Stationary SEA (theta 8), %lld records\n\nADWIN delta 0.002: alarms in %d/%d seeds (%lld in all)\n\n",
        static_cast<long long>(stationary), alarmed, seeds, static_cast<long long>(alarms));
    results.push_back(fmt::format("RESULT drift_stationary records={} seeds={} alarm_seeds={} alarms={} verdict={}",
                                  stationary, seeds, alarmed, alarms, alarmed * 10 <= seeds ? "pass" : "fail"));
  }

  // 4: overhead, 3 rounds each, alternating.
  {
    std::vector<double> plain, evaluated;
    double state_us = 0;
    std::vector<double> ratios;  // per round: plain / evaluated throughput
    size_t state_bytes = 0;
    for (int round = 0; round < rounds; ++round) {
      plain.push_back(stationary / run(7, stationary, {}, {0}, "log", false, false, checkpoint).seconds);
      // The same work as `train --online` by default: evaluation and ADWIN
      // (no per-record recorder: predict is off in the default CLI).
      std::vector<float> labels;
      data::InMemorySource source = sea_source(7, stationary, {}, {0}, &labels);
      model::Model model = sea_model(7);
      train::TrainOptions options;
      options.learning_rate = g_learning_rate;
      options.stats_mode = train::StatsMode::kFirstBatch;
      train::Trainer trainer(model, options);
      train::OnlineOptions online;
      online.checkpoint_path = checkpoint;
      online.checkpoint_every = 100;
      online.drift.kind = train::DriftDetectorKind::kAdwin;
      train::OnlineTrainer t(model, trainer, online);
      const double start = cpu_seconds();
      t.run(source);
      evaluated.push_back(stationary / (cpu_seconds() - start));
      ratios.push_back(plain.back() / evaluated.back());
      // What each checkpoint adds: the evaluator's and the detector's states.
      const auto state_start = std::chrono::steady_clock::now();
      train::PrequentialEvaluator evaluator(model.task());
      evaluator.restore(model.metadata().at(train::kPrequentialStateKey));
      auto detector = train::make_drift_detector(online.drift);
      detector->restore(model.metadata().at(train::kDriftStateKey));
      size_t bytes = 0;
      for (int i = 0; i < 20; ++i) bytes += evaluator.state().size() + detector->state().size();
      state_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - state_start).count() / 20;
      state_bytes = bytes / 20;
    }
    std::sort(plain.begin(), plain.end());
    std::sort(evaluated.begin(), evaluated.end());
    std::sort(ratios.begin(), ratios.end());
    const double p = plain[plain.size() / 2], e = evaluated[evaluated.size() / 2];
    const double ratio = ratios[ratios.size() / 2];
    std::printf("writing the evaluator's and the detector's states (each checkpoint): %.0f us, %zu bytes\n", state_us,
                state_bytes);
    std::printf(
        "## Overhead, %lld records, checkpoint every 100 batches\n\n"
        "records per CPU second, median of %d rounds:\n"
        "online training alone: %.0f (rounds %s)\n"
        "with prequential evaluation + ADWIN: %.0f (rounds %s)\n"
        "overhead (median of the rounds' ratios): %.1f %%\n",
        static_cast<long long>(stationary), rounds, p, list(plain).c_str(), e, list(evaluated).c_str(),
        (ratio - 1) * 100);
    results.push_back(fmt::format(
        "RESULT drift_overhead records={} plain_rec_per_cpu_s={:.0f} "
        "evaluated_rec_per_cpu_s={:.0f} overhead_pct={:.1f} state_us={:.0f} state_bytes={} "
        "goal_pct=10 verdict={}",
        stationary, p, e, (ratio - 1) * 100, state_us, state_bytes, (ratio - 1) * 100 <= 10 ? "pass" : "fail"));
  }
  std::printf("\n");
  for (const std::string& r : results) std::printf("%s\n", r.c_str());
  std::filesystem::remove(checkpoint);
  return 0;
}
