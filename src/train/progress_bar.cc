// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/train/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

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

}  // namespace

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
  const int64_t total = context.steps_per_epoch;
  const int64_t done = context.epoch_step;
  std::string line = fmt::format("Epoch {}/{}", context.epoch + 1, context.epochs);
  if (total > 0) {
    const int digits = static_cast<int>(std::to_string(total).size());
    line += fmt::format("  {:>{}}/{} [", std::min(done, total), digits, total);
    const int filled = static_cast<int>(
        static_cast<double>(options_.width) * static_cast<double>(std::min(done, total)) /
        static_cast<double>(total));
    for (int i = 0; i < options_.width; ++i) {
      line += i < filled ? '=' : (i == filled && !final_line ? '>' : '.');
    }
    line += ']';
  } else {
    line += fmt::format("  {} steps", done);
  }
  line += fmt::format(" {} rec/s", human_rate(rate));
  if (final_line) {
    line += " " + human_duration(elapsed);
  } else if (total > 0 && done > 0 && done < total) {
    line += " ETA " + human_duration(elapsed / static_cast<double>(done) *
                                     static_cast<double>(total - done));
  }
  line += metric_text(logs);
  if (terminal_) {
    // \r + clear to end of line, newline only when the epoch ends.
    std::fprintf(options_.stream, "\r\x1b[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(options_.stream, "%s\n", line.c_str());
  }
  std::fflush(options_.stream);
}

}  // namespace streamml::train
