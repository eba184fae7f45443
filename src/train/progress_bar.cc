// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/progress_bar.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <cmath>
#include <string>

namespace streamml::train {
namespace {

std::string human_rate(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.1f}M", per_second / 1e6);
  if (per_second >= 1e4) return fmt::format("{:.1f}k", per_second / 1e3);
  return fmt::format("{:.0f}", per_second);
}

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  if (s >= 60) return fmt::format("{}:{:02d}", s / 60, s % 60);
  return fmt::format("{}s", s);
}

// Metrics worth showing, in a stable order: loss first.
std::string metric_text(const Logs& logs) {
  std::string out;
  auto add = [&](const std::string& key) {
    auto it = logs.find(key);
    if (it != logs.end()) out += fmt::format(" - {}: {:.4f}", key, it->second);
  };
  for (const char* key : {"loss", "accuracy", "auc", "mae", "rmse"}) add(key);
  for (const char* key : {"val_loss", "val_accuracy", "val_auc", "val_mae", "val_rmse"}) add(key);
  return out;
}

constexpr int kDefaultColumns = 80;
constexpr int kMinBar = 10;

std::string bar_text(int width, int permille, bool final_line) {
  std::string bar = "[";
  const int filled = static_cast<int>(static_cast<int64_t>(width) * permille / 1000);
  for (int i = 0; i < width; ++i) bar += i < filled ? '=' : (i == filled && !final_line ? '>' : '.');
  return bar + ']';
}

}  // namespace

int terminal_columns(std::FILE* stream) {
  if (stream == nullptr) return kDefaultColumns;
  winsize size{};
  if (::ioctl(::fileno(stream), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultColumns;
}

std::string fit_progress_line(const std::string& before_bar, int bar_done_permille, bool final_line,
                              const std::string& after_bar, int max_bar, int columns) {
  // One column stays free: a line exactly as wide as the terminal wraps on
  // some terminals when the cursor moves past its end.
  const int room = std::max(columns - 1, 1);
  int bar = max_bar;
  if (bar_done_permille >= 0) {
    const int rest = static_cast<int>(before_bar.size() + after_bar.size()) + 2;
    bar = std::clamp(room - rest, std::min(kMinBar, max_bar), max_bar);
  }
  std::string line = before_bar;
  if (bar_done_permille >= 0) line += bar_text(bar, bar_done_permille, final_line);
  line += after_bar;
  if (static_cast<int>(line.size()) > room) {
    line.resize(static_cast<size_t>(room));
    // No dangling " - " separator where a metric was cut off.
    while (!line.empty() && (line.back() == ' ' || line.back() == '-')) line.pop_back();
  }
  return line;
}

ProgressBar::ProgressBar(ProgressBarOptions options) : options_(options) {
  switch (options_.style) {
    case ProgressStyle::kTerminal: terminal_ = true; break;
    case ProgressStyle::kPlain: terminal_ = false; break;
    case ProgressStyle::kAuto:
      terminal_ = options_.stream != nullptr && ::isatty(::fileno(options_.stream)) == 1;
      break;
  }
}

void ProgressBar::on_epoch_begin(TrainContext& context, int epoch) {
  epoch_start_ = Clock::now();
  last_write_ = epoch_start_;
}

void ProgressBar::on_batch_end(TrainContext& context, int64_t step, const Logs& logs) {
  const auto now = Clock::now();
  const auto since = now - last_write_;
  if (terminal_) {
    if (since < options_.refresh) return;
  } else if (options_.plain_interval <= Clock::duration::zero() || since < options_.plain_interval) {
    return;
  }
  last_write_ = now;
  write_line(context, logs, /*final_line=*/false);
}

void ProgressBar::on_epoch_end(TrainContext& context, int epoch, const Logs& logs) {
  write_line(context, logs, /*final_line=*/true);
}

void ProgressBar::on_train_end(TrainContext& context, const Logs& logs) {
  if (!context.stop_reason.empty()) {
    std::fprintf(options_.stream, "%s\n", context.stop_reason.c_str());
  }
  std::fflush(options_.stream);
}

void ProgressBar::write_line(const TrainContext& context, const Logs& logs, bool final_line) {
  if (options_.stream == nullptr) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(context.epoch_records) / elapsed : 0.0;
  if (first_batch_size_ == 0 && context.epoch_step > 0) {
    first_batch_size_ = std::max<int64_t>(1, context.epoch_records / context.epoch_step);
  }
  int64_t total = context.steps_per_epoch;
  if (total == 0 && context.records_hint > 0 && first_batch_size_ > 0) {
    // First epoch of a bounded source: estimated from its size (an upper
    // bound: gaps and skipped records make the epoch shorter).
    total = (context.records_hint + first_batch_size_ - 1) / first_batch_size_;
  }
  const int64_t done = context.epoch_step;
  if (final_line) total = total > 0 ? std::max(total, done) : 0;
  std::string before = fmt::format("Epoch {}/{}", context.epoch + 1, context.epochs);
  int permille = -1;
  if (total > 0) {
    const int digits = static_cast<int>(std::to_string(total).size());
    const int64_t shown = final_line ? done : std::min(done, total);
    before += fmt::format("  {:>{}}/{} ", shown, digits, final_line ? done : total);
    permille = static_cast<int>(1000 * std::min(done, total) / total);
    if (final_line) permille = 1000;
  } else {
    before += fmt::format("  {} steps", done);
  }
  std::string after = fmt::format(" {} rec/s", human_rate(rate));
  if (final_line) {
    after += " " + human_duration(elapsed);
  } else if (total > 0 && done > 0 && done < total) {
    after += " ETA " + human_duration(elapsed / static_cast<double>(done) * static_cast<double>(total - done));
  }
  after += metric_text(logs);
  if (terminal_) {
    const int columns = options_.columns > 0 ? options_.columns : terminal_columns(options_.stream);
    // The epoch's summary line is kept whole (it stays on screen); the
    // redrawn one fits the width so that it never wraps.
    const std::string line = final_line ? before + (permille >= 0 ? bar_text(options_.width, permille, true) : "") + after
                                        : fit_progress_line(before, permille, false, after, options_.width, columns);
    // \r + clear to end of line, newline only when the epoch ends.
    std::fprintf(options_.stream, "\r\x1b[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    const std::string line = before + (permille >= 0 ? bar_text(options_.width, permille, final_line) : "") + after;
    std::fprintf(options_.stream, "%s\n", line.c_str());
  }
  std::fflush(options_.stream);
}

}  // namespace streamml::train
