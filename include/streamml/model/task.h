// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Task: what a model predicts, which fixes its output head, its loss and its
// metrics.
//   "binary"        one logit; label 0 or 1; predicts P(class 1)
//   "multiclass:K"  K logits (K >= 2); label an integer class in [0, K)
//   "regression"    one value; label any finite number
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace streamml::model {

enum class TaskKind { kBinary, kMulticlass, kRegression };

// A value type; thread-compatible.
struct Task {
  TaskKind kind = TaskKind::kBinary;
  int64_t num_classes = 2;  // classes for kMulticlass (>= 2); 2 for kBinary; 0 for kRegression

  // Width of the model output: 1 for binary and regression, K for multiclass.
  int64_t output_size() const { return kind == TaskKind::kMulticlass ? num_classes : 1; }
  bool is_classification() const { return kind != TaskKind::kRegression; }
  // Canonical spec: "binary", "multiclass:K" or "regression".
  std::string to_string() const;

  // Returns nullopt-like empty string when `label` fits the task, otherwise
  // why it does not (e.g. "label 7 is not a class of multiclass:3").
  std::string check_label(float label) const;

  static Task binary() { return Task{TaskKind::kBinary, 2}; }
  static Task multiclass(int64_t k) { return Task{TaskKind::kMulticlass, k}; }
  static Task regression() { return Task{TaskKind::kRegression, 0}; }

  friend bool operator==(const Task&, const Task&) = default;
};

// Parses a task spec; throws ConfigError naming the value when it is invalid.
Task parse_task(std::string_view spec);

}  // namespace streamml::model
