// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Concept-drift detectors over a stream of numbers, typically the
// prequential error stream of an online model (1 for a misclassified record,
// 0 for a correct one; or a regression's absolute error):
//
//   * Adwin: ADaptive WINdowing (Bifet & Gavalda, "Learning from
//     Time-Changing Data with Adaptive Windowing", SDM 2007), the ADWIN2
//     variant: the window is kept as an exponential histogram of buckets
//     (at most max_buckets per size 2^i), and every `clock` values each
//     split of the window into an older part W0 and a newer part W1 is
//     tested; while |mean(W0) - mean(W1)| exceeds
//       eps_cut = sqrt(2/m * var(W) * ln(2/d')) + 2/(3m) * ln(2/d'),
//       m = 1 / (1/|W0| + 1/|W1|),  d' = delta / ln(|W|),
//     the oldest bucket is dropped. A drop is a detected change; unless
//     adwin_two_sided, only a rise of the mean (mean(W1) > mean(W0)) raises
//     an alarm, as wanted on an error stream (a model that gets better
//     shrinks the window too, silently), as MOA's ADWIN change detector does.
//   * PageHinkley: the Page-Hinkley test (Page 1954; Mouss et al. 2004) for
//     an increase of the mean: m_T = alpha * m_{T-1} + (x_T - mean_T - delta),
//     M_T = min(M_T, m_T); a change when m_T - M_T > lambda (after
//     min_instances values). The test restarts after each detection.
//   * Ddm: the Drift Detection Method (Gama et al., SBIA 2004) for an error
//     rate p_i with s_i = sqrt(p_i (1 - p_i) / i): a change when
//     p_i + s_i >= p_min + 3 s_min (warning at 2 s_min); restarts after it.
//     Values must be 0 or 1 (any value > 0.5 counts as an error). p_min and
//     s_min are taken over the points with s_i > 0 only: after an error-free
//     start p_min = s_min = 0 would make the first error an alarm.
//
// Every detector can save its whole state as text and restore it, so a
// checkpointed run neither raises again an alarm it already raised nor
// forgets the evidence collected before the checkpoint.
//
// Not thread-safe: one detector per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace streamml::train {

enum class DriftDetectorKind { kNone, kAdwin, kPageHinkley, kDdm };

// Parses "adwin|page-hinkley|ddm|none"; throws ConfigError naming the value.
DriftDetectorKind parse_drift_detector(std::string_view name);
std::string drift_detector_name(DriftDetectorKind kind);

struct DriftDetectorOptions {
  DriftDetectorKind kind = DriftDetectorKind::kAdwin;  // which test
  // ADWIN: confidence delta in (0, 1); smaller means fewer false alarms and
  // later detections.
  double delta = 0.002;
  int adwin_clock = 32;          // ADWIN: values between two checks for a change (>= 1)
  int adwin_max_buckets = 5;     // ADWIN: buckets kept per size (>= 2)
  int adwin_min_window = 5;      // ADWIN: smallest |W0| and |W1| tested (>= 1)
  bool adwin_two_sided = false;  // ADWIN: also alarm when the mean falls
  // Page-Hinkley: tolerated increase of the mean (its own delta, >= 0); the
  // default suits a 0/1 error stream.
  double ph_delta = 0.05;
  double ph_lambda = 50.0;  // Page-Hinkley: alarm threshold (> 0)
  // Page-Hinkley: fading factor of the cumulative sum, in (0, 1]; 1 (Page's
  // test) keeps a stationary 0/1 stream quiet, < 1 forgets old evidence.
  double ph_alpha = 1.0;
  int64_t min_instances = 30;  // Page-Hinkley and DDM: values before the first test (>= 1)

  // Throws ConfigError naming the first invalid field.
  void validate() const;
};

class DriftDetector {
 public:
  virtual ~DriftDetector() = default;

  // Adds one value; true when a change is detected at this value.
  virtual bool update(double value) = 0;
  // The test statistic of the last update, also when it raised an alarm
  // (ADWIN: the largest |mean(W0) - mean(W1)| that made it cut, else 0;
  // Page-Hinkley: m_T - M_T; DDM: p_i + s_i); for drift events and logs.
  double statistic() const { return statistic_; }
  // The current estimate of the stream's mean (ADWIN: over its window;
  // Page-Hinkley, DDM: since the last restart; they restart at the update
  // after an alarm, so right after one it describes the values that raised it).
  virtual double mean() const = 0;
  // Values the estimate is based on (ADWIN: the window width).
  virtual int64_t width() const = 0;
  // Forgets everything but the options and the counters below.
  virtual void reset() = 0;
  // The full state as one line of text (numbers round-trip exactly), and
  // back. restore() throws InputError naming the problem when `state` was
  // not written by a detector of the same kind.
  virtual std::string state() const = 0;
  virtual void restore(std::string_view state) = 0;
  virtual DriftDetectorKind kind() const = 0;

  // Values seen and changes detected since construction (kept by reset()
  // and by state()/restore()).
  int64_t updates() const { return updates_; }
  int64_t detections() const { return detections_; }

 protected:
  int64_t updates_ = 0;
  int64_t detections_ = 0;
  double statistic_ = 0.0;
};

class Adwin final : public DriftDetector {
 public:
  // Throws ConfigError for invalid options (see DriftDetectorOptions).
  explicit Adwin(const DriftDetectorOptions& options = {});

  bool update(double value) override;
  double mean() const override { return width_ > 0 ? total_ / static_cast<double>(width_) : 0.0; }
  int64_t width() const override { return width_; }
  void reset() override;
  std::string state() const override;
  void restore(std::string_view state) override;
  DriftDetectorKind kind() const override { return DriftDetectorKind::kAdwin; }

  // Variance of the values in the window.
  double variance() const { return width_ > 0 ? m2_ / static_cast<double>(width_) : 0.0; }
  // Buckets held (O(max_buckets * log(width))).
  size_t buckets() const;

 private:
  struct Bucket {
    double total = 0.0;  // sum of the values
    double m2 = 0.0;     // sum of squared deviations from their mean
  };
  // rows_[i] holds buckets of 2^i values, oldest first.
  void compress();
  bool detect_change();
  void drop_oldest();

  DriftDetectorOptions options_;
  std::vector<std::deque<Bucket>> rows_;
  int64_t width_ = 0;
  double total_ = 0.0;
  double m2_ = 0.0;
  int64_t tick_ = 0;
};

class PageHinkley final : public DriftDetector {
 public:
  explicit PageHinkley(const DriftDetectorOptions& options = {});

  bool update(double value) override;
  double mean() const override { return mean_; }
  int64_t width() const override { return count_; }
  void reset() override;
  std::string state() const override;
  void restore(std::string_view state) override;
  DriftDetectorKind kind() const override { return DriftDetectorKind::kPageHinkley; }

 private:
  DriftDetectorOptions options_;
  int64_t count_ = 0;
  double mean_ = 0.0;
  double sum_ = 0.0;
  double min_sum_ = 0.0;
  bool restart_pending_ = false;  // an alarm was raised: the next update restarts the test
};

class Ddm final : public DriftDetector {
 public:
  explicit Ddm(const DriftDetectorOptions& options = {});

  bool update(double value) override;
  double mean() const override { return p_; }
  int64_t width() const override { return count_; }
  void reset() override;
  std::string state() const override;
  void restore(std::string_view state) override;
  DriftDetectorKind kind() const override { return DriftDetectorKind::kDdm; }

  // p_i + s_i >= p_min + 2 s_min at the last update.
  bool warning() const { return warning_; }

 private:
  DriftDetectorOptions options_;
  int64_t count_ = 0;
  int64_t errors_ = 0;
  double p_ = 0.0;
  double s_ = 0.0;
  double p_min_ = 0.0;
  double s_min_ = 0.0;
  bool warning_ = false;
  bool restart_pending_ = false;  // an alarm was raised: the next update restarts the test
};

// The detector of options.kind, or nullptr for kNone. Throws ConfigError for
// invalid options.
std::unique_ptr<DriftDetector> make_drift_detector(const DriftDetectorOptions& options);

}  // namespace streamml::train
