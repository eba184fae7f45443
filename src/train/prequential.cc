// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/prequential.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "streamml/common/error.h"

namespace streamml::train {
namespace {

// The faded AUC's weights are rescaled when the newest weight passes this.
constexpr double kMaxScale = 1e200;

// AUC from (score, positive) pairs: Mann-Whitney U with ties counting one half.
// Returns NaN when one class is missing.
template <typename Pairs>
double exact_auc(Pairs pairs) {
  std::sort(pairs.begin(), pairs.end());
  double positives = 0, negatives = 0, wins = 0;
  size_t i = 0;
  while (i < pairs.size()) {
    size_t j = i;
    double tied_pos = 0, tied_neg = 0;
    while (j < pairs.size() && pairs[j].first == pairs[i].first) {
      (pairs[j].second ? tied_pos : tied_neg) += 1;
      ++j;
    }
    wins += tied_pos * (negatives + 0.5 * tied_neg);
    positives += tied_pos;
    negatives += tied_neg;
    i = j;
  }
  if (positives == 0 || negatives == 0) return std::nan("");
  return wins / (positives * negatives);
}

double binned_auc(const std::vector<double>& pos, const std::vector<double>& neg) {
  double total_pos = 0, total_neg = 0, negatives_below = 0, wins = 0;
  for (size_t b = 0; b < pos.size(); ++b) {
    wins += pos[b] * (negatives_below + 0.5 * neg[b]);
    negatives_below += neg[b];
    total_pos += pos[b];
    total_neg += neg[b];
  }
  if (total_pos <= 0 || total_neg <= 0) return std::nan("");
  return wins / (total_pos * total_neg);
}

std::string num(double v) { return fmt::format("{}", v); }

double parse_double(const std::string& text, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') {
    throw InputError(fmt::format("prequential state: {} is not a number: '{}'", what, text));
  }
  return v;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t pos = 0;
  for (;;) {
    const size_t end = text.find(sep, pos);
    out.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

}  // namespace

void PrequentialOptions::validate() const {
  if (window < 1) throw ConfigError(fmt::format("prequential window {} is invalid: use 1 or more records", window));
  if (!(fading > 0.0 && fading <= 1.0)) {
    throw ConfigError(fmt::format("prequential fading factor {} is invalid: use 0 < fading <= 1", fading));
  }
}

PrequentialEvaluator::PrequentialEvaluator(model::Task task, PrequentialOptions options)
    : task_(task), options_(options) {
  options_.validate();
  clear();
}

void PrequentialEvaluator::clear() {
  ring_.clear();
  next_ = 0;
  window_error_ = window_loss_ = window_squared_ = 0.0;
  faded_n_ = faded_error_ = faded_loss_ = faded_squared_ = 0.0;
  scale_ = 1.0;
  if (task_.kind == model::TaskKind::kBinary) {
    faded_pos_.assign(kFadedAucBins, 0.0);
    faded_neg_.assign(kFadedAucBins, 0.0);
  }
}

void PrequentialEvaluator::push(const Entry& e) {
  ++count_;
  const double squared = task_.kind == model::TaskKind::kRegression ? e.error * e.error : 0.0;
  const size_t capacity = static_cast<size_t>(options_.window);
  if (ring_.size() < capacity) {
    ring_.push_back(e);
  } else {
    const Entry& old = ring_[next_];
    window_error_ -= old.error;
    window_loss_ -= old.loss;
    if (task_.kind == model::TaskKind::kRegression) window_squared_ -= old.error * old.error;
    ring_[next_] = e;
  }
  window_error_ += e.error;
  window_loss_ += e.loss;
  window_squared_ += squared;
  next_ = (next_ + 1) % capacity;
  if (next_ == 0) {
    // Once per window: recompute the sums, so rounding never accumulates.
    window_error_ = window_loss_ = window_squared_ = 0.0;
    for (const Entry& x : ring_) {
      window_error_ += x.error;
      window_loss_ += x.loss;
      if (task_.kind == model::TaskKind::kRegression) window_squared_ += x.error * x.error;
    }
  }
  const double a = options_.fading;
  faded_n_ = 1.0 + a * faded_n_;
  faded_error_ = e.error + a * faded_error_;
  faded_loss_ = e.loss + a * faded_loss_;
  faded_squared_ = squared + a * faded_squared_;
  if (task_.kind == model::TaskKind::kBinary) {
    // Instead of multiplying every bin by a, the newest weight grows by 1/a.
    if (count_ > 1) scale_ /= a;
    if (scale_ > kMaxScale) {
      for (size_t b = 0; b < kFadedAucBins; ++b) {
        faded_pos_[b] /= scale_;
        faded_neg_[b] /= scale_;
      }
      scale_ = 1.0;
    }
    const size_t bin = std::min(
        kFadedAucBins - 1, static_cast<size_t>(std::clamp(e.score, 0.0f, 1.0f) * static_cast<float>(kFadedAucBins)));
    (e.positive ? faded_pos_ : faded_neg_)[bin] += scale_;
  }
}

PrequentialEvaluator::Entry PrequentialEvaluator::binary_entry(float score, bool positive) {
  Entry e;
  const double p = std::clamp(static_cast<double>(score), kMinProbability, 1.0 - kMinProbability);
  e.score = score;
  e.positive = positive;
  // The predicted class is 1 when P(class 1) >= 0.5 (model/predictions.h).
  e.error = (score >= 0.5f) == positive ? 0.0 : 1.0;
  e.loss = -std::log(positive ? p : 1.0 - p);
  return e;
}

PrequentialEvaluator::Entry PrequentialEvaluator::multiclass_entry(float true_class_probability, bool correct) {
  Entry e;
  e.score = true_class_probability;
  e.error = correct ? 0.0 : 1.0;
  e.loss = -std::log(std::max(static_cast<double>(true_class_probability), kMinProbability));
  return e;
}

PrequentialEvaluator::Entry PrequentialEvaluator::regression_entry(double abs_error) {
  Entry e;
  e.error = abs_error;
  e.loss = abs_error * abs_error;
  return e;
}

void PrequentialEvaluator::add(const model::Predictions& predictions, const float* labels,
                               std::vector<double>* errors) {
  for (size_t r = 0; r < predictions.size; ++r) {
    const float label = labels[r];
    Entry e;
    switch (task_.kind) {
      case model::TaskKind::kBinary: e = binary_entry(predictions.values[r], label > 0.5f); break;
      case model::TaskKind::kMulticlass: {
        const size_t k = predictions.width();
        const auto y = static_cast<size_t>(label);
        const float p = y < k ? predictions.values[r * k + y] : 0.0f;
        e = multiclass_entry(p, predictions.classes[r] == static_cast<int64_t>(label));
        break;
      }
      case model::TaskKind::kRegression:
        e = regression_entry(std::abs(static_cast<double>(predictions.values[r]) - static_cast<double>(label)));
        break;
    }
    push(e);
    if (errors != nullptr) errors->push_back(e.error);
  }
}

Metrics PrequentialEvaluator::metrics(bool with_auc) const {
  Metrics out;
  if (count_ == 0) return out;
  out["preq_records"] = static_cast<double>(count_);
  const double n = static_cast<double>(ring_.size());
  if (n == 0) return out;
  out["preq_loss"] = window_loss_ / n;
  out["preq_faded_loss"] = faded_loss_ / faded_n_;
  if (task_.is_classification()) {
    out["preq_accuracy"] = 1.0 - window_error_ / n;
    out["preq_faded_accuracy"] = 1.0 - faded_error_ / faded_n_;
  } else {
    out["preq_mae"] = window_error_ / n;
    out["preq_rmse"] = std::sqrt(std::max(0.0, window_squared_ / n));
    out["preq_faded_mae"] = faded_error_ / faded_n_;
    out["preq_faded_rmse"] = std::sqrt(std::max(0.0, faded_squared_ / faded_n_));
  }
  if (with_auc && task_.kind == model::TaskKind::kBinary) {
    std::vector<std::pair<float, bool>> pairs;
    pairs.reserve(ring_.size());
    for (const Entry& e : ring_) pairs.emplace_back(e.score, e.positive);
    const double auc = exact_auc(std::move(pairs));
    if (!std::isnan(auc)) out["preq_auc"] = auc;
    const double faded_auc = binned_auc(faded_pos_, faded_neg_);
    if (!std::isnan(faded_auc)) out["preq_faded_auc"] = faded_auc;
  }
  return out;
}

// The state keeps what each entry is computed from (binary: the score and
// the label; multiclass: the true class's probability and whether the
// prediction was right; regression: the absolute error), and the faded AUC
// weights relative to the newest one, as floats.
std::string PrequentialEvaluator::state() const {
  std::string out = fmt::format("prequential task={} count={} faded={}:{}:{}:{} window=", task_.to_string(), count_,
                                num(faded_n_), num(faded_error_), num(faded_loss_), num(faded_squared_));
  out.reserve(out.size() + ring_.size() * 12 + (faded_pos_.empty() ? 0 : kFadedAucBins * 24));
  // Oldest first.
  const size_t start = ring_.size() < static_cast<size_t>(options_.window) ? 0 : next_;
  for (size_t i = 0; i < ring_.size(); ++i) {
    const Entry& e = ring_[(start + i) % ring_.size()];
    if (i > 0) out += ',';
    switch (task_.kind) {
      case model::TaskKind::kBinary:
        fmt::format_to(std::back_inserter(out), "{}{}", e.score, e.positive ? '+' : '-');
        break;
      case model::TaskKind::kMulticlass:
        fmt::format_to(std::back_inserter(out), "{}{}", e.score, e.error > 0.5 ? '!' : '=');
        break;
      case model::TaskKind::kRegression: fmt::format_to(std::back_inserter(out), "{}", e.error); break;
    }
  }
  if (task_.kind == model::TaskKind::kBinary) {
    out += " auc=";
    bool first = true;
    for (size_t b = 0; b < kFadedAucBins; ++b) {
      const auto pos = static_cast<float>(faded_pos_[b] / scale_);
      const auto neg = static_cast<float>(faded_neg_[b] / scale_);
      if (pos == 0 && neg == 0) continue;
      if (!first) out += ',';
      first = false;
      fmt::format_to(std::back_inserter(out), "{}:{}:{}", b, pos, neg);
    }
  }
  return out;
}

void PrequentialEvaluator::restore(std::string_view state) {
  std::map<std::string, std::string> fields;
  const std::vector<std::string> tokens = split(std::string(state), ' ');
  if (tokens.empty() || tokens[0] != "prequential") {
    throw InputError(fmt::format("'{}' is not a prequential evaluator state", state.substr(0, 40)));
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    const size_t eq = tokens[i].find('=');
    if (eq == std::string::npos) throw InputError(fmt::format("prequential state: field '{}' has no value", tokens[i]));
    fields[tokens[i].substr(0, eq)] = tokens[i].substr(eq + 1);
  }
  auto field = [&](const char* key) -> const std::string& {
    auto it = fields.find(key);
    if (it == fields.end()) throw InputError(fmt::format("prequential state lacks '{}'", key));
    return it->second;
  };
  if (field("task") != task_.to_string()) {
    throw InputError(fmt::format("prequential state is for task {}, not {}", field("task"), task_.to_string()));
  }
  const bool binary = task_.kind == model::TaskKind::kBinary;
  PrequentialEvaluator fresh(task_, options_);
  const std::vector<std::string> entries = split(field("window"), ',');
  // Replayed into a window of this evaluator's size (which may differ).
  const size_t skip = entries.size() > static_cast<size_t>(options_.window) ? entries.size() - options_.window : 0;
  for (size_t i = skip; i < entries.size(); ++i) {
    const std::string& text = entries[i];
    if (text.empty()) throw InputError("prequential state: a window entry is empty");
    const char flag = text.back();
    const std::string number = text.substr(0, text.size() - 1);
    switch (task_.kind) {
      case model::TaskKind::kBinary:
        if (flag != '+' && flag != '-') throw InputError("prequential state: a binary window entry is malformed");
        fresh.push(binary_entry(static_cast<float>(parse_double(number, "a score")), flag == '+'));
        break;
      case model::TaskKind::kMulticlass:
        if (flag != '!' && flag != '=') throw InputError("prequential state: a multiclass window entry is malformed");
        fresh.push(multiclass_entry(static_cast<float>(parse_double(number, "a probability")), flag == '='));
        break;
      case model::TaskKind::kRegression: fresh.push(regression_entry(parse_double(text, "an error"))); break;
    }
  }
  const std::vector<std::string> faded = split(field("faded"), ':');
  if (faded.size() != 4) throw InputError("prequential state: 'faded' is malformed");
  fresh.faded_n_ = parse_double(faded[0], "faded_n");
  fresh.faded_error_ = parse_double(faded[1], "faded_error");
  fresh.faded_loss_ = parse_double(faded[2], "faded_loss");
  fresh.faded_squared_ = parse_double(faded[3], "faded_squared");
  fresh.scale_ = 1.0;
  if (binary) {
    std::fill(fresh.faded_pos_.begin(), fresh.faded_pos_.end(), 0.0);
    std::fill(fresh.faded_neg_.begin(), fresh.faded_neg_.end(), 0.0);
    for (const std::string& bin : split(field("auc"), ',')) {
      const std::vector<std::string> parts = split(bin, ':');
      const double b = parts.size() == 3 ? parse_double(parts[0], "an AUC bin") : -1;
      if (b < 0 || b >= static_cast<double>(kFadedAucBins))
        throw InputError("prequential state: an AUC bin is malformed");
      fresh.faded_pos_[static_cast<size_t>(b)] = parse_double(parts[1], "an AUC weight");
      fresh.faded_neg_[static_cast<size_t>(b)] = parse_double(parts[2], "an AUC weight");
    }
  }
  const double count = parse_double(field("count"), "count");
  fresh.count_ = static_cast<int64_t>(count);
  *this = std::move(fresh);
}

}  // namespace streamml::train
