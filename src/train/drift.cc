// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/drift.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

#include "streamml/common/error.h"

namespace streamml::train {
namespace {

// Exact text for a double (hexadecimal floating point reads back bit for bit).
std::string exact(double value) { return fmt::format("{:a}", value); }

// The "key=value" fields of a state line after its leading detector name.
class StateFields {
 public:
  StateFields(std::string_view state, std::string_view expected_name) {
    size_t pos = 0;
    bool first = true;
    while (pos < state.size()) {
      size_t end = state.find(' ', pos);
      if (end == std::string_view::npos) end = state.size();
      std::string_view token = state.substr(pos, end - pos);
      pos = end + 1;
      if (token.empty()) continue;
      if (first) {
        if (token != expected_name) {
          throw InputError(fmt::format("drift detector state '{}' is not the state of a {} detector",
                                       state.substr(0, 40), expected_name));
        }
        first = false;
        continue;
      }
      const size_t eq = token.find('=');
      if (eq == std::string_view::npos) {
        throw InputError(fmt::format("drift detector state: field '{}' has no value", token));
      }
      fields_[std::string(token.substr(0, eq))] = std::string(token.substr(eq + 1));
    }
    if (first) throw InputError(fmt::format("empty drift detector state for a {} detector", expected_name));
    name_ = expected_name;
  }

  const std::string& text(const std::string& key) const {
    auto it = fields_.find(key);
    if (it == fields_.end()) throw InputError(fmt::format("{} detector state lacks '{}'", name_, key));
    return it->second;
  }
  double real(const std::string& key) const { return parse_real(text(key), key); }
  int64_t integer(const std::string& key) const {
    const std::string& t = text(key);
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (end == t.c_str() || *end != '\0') {
      throw InputError(fmt::format("{} detector state: '{}' is not an integer: '{}'", name_, key, t));
    }
    return v;
  }
  double parse_real(const std::string& t, const std::string& what) const {
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || *end != '\0') {
      throw InputError(fmt::format("{} detector state: '{}' is not a number: '{}'", name_, what, t));
    }
    return v;
  }

 private:
  std::map<std::string, std::string> fields_;
  std::string name_;
};

constexpr const char* kAdwinName = "adwin";
constexpr const char* kPageHinkleyName = "page-hinkley";
constexpr const char* kDdmName = "ddm";

}  // namespace

DriftDetectorKind parse_drift_detector(std::string_view name) {
  if (name == "adwin") return DriftDetectorKind::kAdwin;
  if (name == "page-hinkley" || name == "ph") return DriftDetectorKind::kPageHinkley;
  if (name == "ddm") return DriftDetectorKind::kDdm;
  if (name == "none") return DriftDetectorKind::kNone;
  throw ConfigError(fmt::format("drift detector '{}' is unknown: use adwin, page-hinkley, ddm or none", name));
}

std::string drift_detector_name(DriftDetectorKind kind) {
  switch (kind) {
    case DriftDetectorKind::kAdwin: return kAdwinName;
    case DriftDetectorKind::kPageHinkley: return kPageHinkleyName;
    case DriftDetectorKind::kDdm: return kDdmName;
    case DriftDetectorKind::kNone: return "none";
  }
  return "none";
}

void DriftDetectorOptions::validate() const {
  if (!(delta > 0.0 && delta < 1.0))
    throw ConfigError(fmt::format("drift delta {} is invalid: use 0 < delta < 1", delta));
  if (adwin_clock < 1) throw ConfigError(fmt::format("adwin_clock {} is invalid: use 1 or more", adwin_clock));
  if (adwin_max_buckets < 2) {
    throw ConfigError(fmt::format("adwin_max_buckets {} is invalid: use 2 or more", adwin_max_buckets));
  }
  if (adwin_min_window < 1) {
    throw ConfigError(fmt::format("adwin_min_window {} is invalid: use 1 or more", adwin_min_window));
  }
  if (!(ph_delta >= 0.0)) throw ConfigError(fmt::format("ph_delta {} is invalid: use 0 or more", ph_delta));
  if (!(ph_lambda > 0.0)) throw ConfigError(fmt::format("ph_lambda {} is invalid: use more than 0", ph_lambda));
  if (!(ph_alpha > 0.0 && ph_alpha <= 1.0)) {
    throw ConfigError(fmt::format("ph_alpha {} is invalid: use 0 < alpha <= 1", ph_alpha));
  }
  if (min_instances < 1) throw ConfigError(fmt::format("min_instances {} is invalid: use 1 or more", min_instances));
}

std::unique_ptr<DriftDetector> make_drift_detector(const DriftDetectorOptions& options) {
  switch (options.kind) {
    case DriftDetectorKind::kAdwin: return std::make_unique<Adwin>(options);
    case DriftDetectorKind::kPageHinkley: return std::make_unique<PageHinkley>(options);
    case DriftDetectorKind::kDdm: return std::make_unique<Ddm>(options);
    case DriftDetectorKind::kNone: break;
  }
  options.validate();
  return nullptr;
}

// ---------------------------------------------------------------- ADWIN

Adwin::Adwin(const DriftDetectorOptions& options) : options_(options) { options_.validate(); }

void Adwin::reset() {
  rows_.clear();
  width_ = 0;
  total_ = 0.0;
  m2_ = 0.0;
  tick_ = 0;
  statistic_ = 0.0;
}

size_t Adwin::buckets() const {
  size_t n = 0;
  for (const auto& row : rows_) n += row.size();
  return n;
}

bool Adwin::update(double value) {
  ++updates_;
  // Welford's update of the window's sum of squared deviations.
  ++width_;
  if (width_ > 1) {
    const double previous_mean = total_ / static_cast<double>(width_ - 1);
    const double d = value - previous_mean;
    m2_ += static_cast<double>(width_ - 1) / static_cast<double>(width_) * d * d;
  }
  total_ += value;
  if (rows_.empty()) rows_.emplace_back();
  rows_[0].push_back(Bucket{value, 0.0});
  compress();
  statistic_ = 0.0;
  if (++tick_ % options_.adwin_clock != 0) return false;
  if (!detect_change()) return false;
  ++detections_;
  return true;
}

// Keeps at most max_buckets buckets per size: the two oldest of a full row
// merge into one bucket of the next size (which is newer than every bucket
// already there, so it goes last).
void Adwin::compress() {
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].size() <= static_cast<size_t>(options_.adwin_max_buckets)) break;
    const Bucket older = rows_[i].front();
    rows_[i].pop_front();
    const Bucket newer = rows_[i].front();
    rows_[i].pop_front();
    const double n = std::ldexp(1.0, static_cast<int>(i));
    const double d = older.total / n - newer.total / n;
    // Chan et al.'s merge of two groups of n values: + n*n/(2n) * d^2.
    Bucket merged{older.total + newer.total, older.m2 + newer.m2 + n / 2.0 * d * d};
    if (i + 1 == rows_.size()) rows_.emplace_back();
    rows_[i + 1].push_back(merged);
  }
}

void Adwin::drop_oldest() {
  while (!rows_.empty() && rows_.back().empty()) rows_.pop_back();
  if (rows_.empty()) return;
  const size_t i = rows_.size() - 1;
  const Bucket b = rows_[i].front();
  rows_[i].pop_front();
  const int64_t nb = int64_t{1} << i;
  const int64_t rest = width_ - nb;
  if (rest <= 0) {
    width_ = 0;
    total_ = 0.0;
    m2_ = 0.0;
  } else {
    const double mean_b = b.total / static_cast<double>(nb);
    const double mean_rest = (total_ - b.total) / static_cast<double>(rest);
    const double d = mean_b - mean_rest;
    m2_ -= b.m2 + static_cast<double>(nb) * static_cast<double>(rest) / static_cast<double>(width_) * d * d;
    m2_ = std::max(0.0, m2_);
    total_ -= b.total;
    width_ = rest;
  }
  while (!rows_.empty() && rows_.back().empty()) rows_.pop_back();
}

// Tests every split at a bucket boundary, oldest part W0 first; drops the
// oldest bucket and starts over while a split shows a change. True when a
// change counts as an alarm (see adwin_two_sided).
bool Adwin::detect_change() {
  bool changed = false;
  const int64_t min_window = options_.adwin_min_window;
  bool cut = true;
  while (cut && width_ >= 2 * min_window) {
    cut = false;
    const double n = static_cast<double>(width_);
    const double variance = m2_ / n;
    const double log_term = std::log(2.0 * std::log(n) / options_.delta);
    int64_t n0 = 0;
    double t0 = 0.0;
    for (size_t r = rows_.size(); r-- > 0 && !cut;) {
      const int64_t size = int64_t{1} << r;
      for (const Bucket& b : rows_[r]) {
        n0 += size;
        t0 += b.total;
        const int64_t n1 = width_ - n0;
        if (n1 < min_window) break;
        if (n0 < min_window) continue;
        const double mean0 = t0 / static_cast<double>(n0);
        const double mean1 = (total_ - t0) / static_cast<double>(n1);
        const double m = 1.0 / (1.0 / static_cast<double>(n0) + 1.0 / static_cast<double>(n1));
        const double eps = std::sqrt(2.0 / m * variance * log_term) + 2.0 / (3.0 * m) * log_term;
        const double diff = std::abs(mean0 - mean1);
        if (diff > eps) {
          cut = true;
          if (options_.adwin_two_sided || mean1 > mean0) {
            statistic_ = std::max(statistic_, diff);
            changed = true;
          }
          break;
        }
      }
    }
    if (cut) drop_oldest();
  }
  return changed;
}

std::string Adwin::state() const {
  std::string rows;
  for (size_t r = 0; r < rows_.size(); ++r) {
    if (r > 0) rows += '/';
    for (size_t k = 0; k < rows_[r].size(); ++k) {
      if (k > 0) rows += ',';
      rows += exact(rows_[r][k].total) + ':' + exact(rows_[r][k].m2);
    }
  }
  return fmt::format("{} updates={} detections={} width={} total={} m2={} tick={} rows={}", kAdwinName, updates_,
                     detections_, width_, exact(total_), exact(m2_), tick_, rows);
}

void Adwin::restore(std::string_view state) {
  StateFields f(state, kAdwinName);
  std::vector<std::deque<Bucket>> rows;
  const std::string& text = f.text("rows");
  int64_t counted = 0;
  size_t pos = 0;
  if (!text.empty()) {
    for (;;) {
      size_t end = text.find('/', pos);
      const std::string row = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      rows.emplace_back();
      size_t p = 0;
      while (p < row.size()) {
        size_t q = row.find(',', p);
        if (q == std::string::npos) q = row.size();
        const std::string bucket = row.substr(p, q - p);
        const size_t colon = bucket.find(':');
        if (colon == std::string::npos) throw InputError("adwin detector state: a bucket is not total:m2");
        rows.back().push_back(
            Bucket{f.parse_real(bucket.substr(0, colon), "rows"), f.parse_real(bucket.substr(colon + 1), "rows")});
        counted += int64_t{1} << (rows.size() - 1);
        p = q + 1;
      }
      if (end == std::string::npos) break;
      pos = end + 1;
    }
  }
  const int64_t width = f.integer("width");
  if (counted != width) {
    throw InputError(fmt::format("adwin detector state: the buckets hold {} values but width is {}", counted, width));
  }
  rows_ = std::move(rows);
  width_ = width;
  updates_ = f.integer("updates");
  detections_ = f.integer("detections");
  total_ = f.real("total");
  m2_ = f.real("m2");
  tick_ = f.integer("tick");
  statistic_ = 0.0;
}

// ---------------------------------------------------------- Page-Hinkley

PageHinkley::PageHinkley(const DriftDetectorOptions& options) : options_(options) { options_.validate(); }

void PageHinkley::reset() {
  count_ = 0;
  mean_ = 0.0;
  sum_ = 0.0;
  min_sum_ = 0.0;
  restart_pending_ = false;
}

bool PageHinkley::update(double value) {
  if (restart_pending_) reset();
  ++updates_;
  ++count_;
  mean_ += (value - mean_) / static_cast<double>(count_);
  sum_ = options_.ph_alpha * sum_ + (value - mean_ - options_.ph_delta);
  min_sum_ = std::min(min_sum_, sum_);
  statistic_ = sum_ - min_sum_;
  if (count_ < options_.min_instances || statistic_ <= options_.ph_lambda) return false;
  ++detections_;
  restart_pending_ = true;
  return true;
}

std::string PageHinkley::state() const {
  return fmt::format("{} updates={} detections={} count={} mean={} sum={} min_sum={} restart={}", kPageHinkleyName,
                     updates_, detections_, count_, exact(mean_), exact(sum_), exact(min_sum_),
                     restart_pending_ ? 1 : 0);
}

void PageHinkley::restore(std::string_view state) {
  StateFields f(state, kPageHinkleyName);
  updates_ = f.integer("updates");
  detections_ = f.integer("detections");
  count_ = f.integer("count");
  mean_ = f.real("mean");
  sum_ = f.real("sum");
  min_sum_ = f.real("min_sum");
  restart_pending_ = f.integer("restart") != 0;
  statistic_ = sum_ - min_sum_;
}

// ------------------------------------------------------------------ DDM

Ddm::Ddm(const DriftDetectorOptions& options) : options_(options) {
  options_.validate();
  reset();
}

void Ddm::reset() {
  count_ = 0;
  errors_ = 0;
  p_ = 0.0;
  s_ = 0.0;
  p_min_ = std::numeric_limits<double>::infinity();
  s_min_ = std::numeric_limits<double>::infinity();
  warning_ = false;
  restart_pending_ = false;
}

bool Ddm::update(double value) {
  if (restart_pending_) reset();
  ++updates_;
  ++count_;
  if (value > 0.5) ++errors_;
  const double n = static_cast<double>(count_);
  p_ = static_cast<double>(errors_) / n;
  s_ = std::sqrt(p_ * (1.0 - p_) / n);
  statistic_ = p_ + s_;
  warning_ = false;
  if (count_ < options_.min_instances) return false;
  // An error-free stretch (s_i = 0) says nothing of the spread: the minimum
  // is taken over the points with s_i > 0.
  if (s_ > 0.0 && p_ + s_ <= p_min_ + s_min_) {
    p_min_ = p_;
    s_min_ = s_;
  }
  if (p_ + s_ >= p_min_ + 3.0 * s_min_) {
    ++detections_;
    restart_pending_ = true;
    return true;
  }
  warning_ = p_ + s_ >= p_min_ + 2.0 * s_min_;
  return false;
}

std::string Ddm::state() const {
  return fmt::format("{} updates={} detections={} count={} errors={} p_min={} s_min={} restart={}", kDdmName,
                     updates_, detections_, count_, errors_, exact(p_min_), exact(s_min_), restart_pending_ ? 1 : 0);
}

void Ddm::restore(std::string_view state) {
  StateFields f(state, kDdmName);
  updates_ = f.integer("updates");
  detections_ = f.integer("detections");
  count_ = f.integer("count");
  errors_ = f.integer("errors");
  p_min_ = f.real("p_min");
  s_min_ = f.real("s_min");
  restart_pending_ = f.integer("restart") != 0;
  const double n = static_cast<double>(count_);
  p_ = count_ > 0 ? static_cast<double>(errors_) / n : 0.0;
  s_ = count_ > 0 ? std::sqrt(p_ * (1.0 - p_) / n) : 0.0;
  statistic_ = p_ + s_;
  warning_ = false;
}

}  // namespace streamml::train
