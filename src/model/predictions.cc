// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/predictions.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace streamml::model {
namespace {

void check_row(const Predictions& p, size_t row) {
  if (row >= p.size) {
    throw std::out_of_range(fmt::format("prediction row {} out of range ({} rows)", row, p.size));
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Shortest round-trip text; JSON has no NaN/Infinity, so those become null.
std::string number(float value) {
  if (!std::isfinite(value)) return "null";
  return fmt::format("{}", value);
}

}  // namespace

float Predictions::score(size_t row) const {
  if (task.kind == TaskKind::kMulticlass) {
    return values[row * width() + static_cast<size_t>(classes[row])];
  }
  return values[row];
}

double Predictions::prediction(size_t row) const {
  if (task.kind == TaskKind::kRegression) return values[row];
  return static_cast<double>(classes[row]);
}

std::string format_json(const Predictions& p, size_t row, const data::RecordMeta* meta,
                        const PredictionFormat& format) {
  check_row(p, row);
  std::string out = "{";
  if (format.include_source) {
    out += "\"topic\":";
    append_json_string(out, meta ? meta->topic : std::string());
    out += fmt::format(",\"partition\":{},\"offset\":{},\"key\":", meta ? meta->partition : -1,
                       meta ? meta->offset : -1);
    if (meta && meta->has_key) {
      append_json_string(out, meta->key);
    } else {
      out += "null";
    }
    out += ',';
  }
  out += "\"prediction\":";
  switch (p.task.kind) {
    case TaskKind::kRegression: out += number(p.values[row]); break;
    case TaskKind::kBinary:
      out += std::to_string(p.classes[row]);
      if (format.include_probabilities) out += ",\"probability\":" + number(p.values[row]);
      break;
    case TaskKind::kMulticlass:
      out += std::to_string(p.classes[row]);
      if (format.include_probabilities) {
        out += ",\"probabilities\":[";
        for (size_t k = 0; k < p.width(); ++k) {
          if (k > 0) out += ',';
          out += number(p.values[row * p.width() + k]);
        }
        out += ']';
      }
      break;
  }
  out += '}';
  return out;
}

std::string format_csv(const Predictions& p, size_t row, const data::RecordMeta* meta,
                       const PredictionFormat& format) {
  check_row(p, row);
  std::string out;
  if (format.include_source) {
    append_csv_field(out, meta ? meta->topic : std::string());
    out += fmt::format(",{},{},", meta ? meta->partition : -1, meta ? meta->offset : -1);
    if (meta && meta->has_key) append_csv_field(out, meta->key);
    out += ',';
  }
  auto csv_number = [](float v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); };
  switch (p.task.kind) {
    case TaskKind::kRegression: out += csv_number(p.values[row]); break;
    case TaskKind::kBinary:
      out += std::to_string(p.classes[row]);
      if (format.include_probabilities) out += "," + csv_number(p.values[row]);
      break;
    case TaskKind::kMulticlass:
      out += std::to_string(p.classes[row]);
      if (format.include_probabilities) {
        for (size_t k = 0; k < p.width(); ++k) out += "," + csv_number(p.values[row * p.width() + k]);
      }
      break;
  }
  return out;
}

std::string csv_header(const Task& task, const PredictionFormat& format) {
  std::string out = format.include_source ? "topic,partition,offset,key," : "";
  out += "prediction";
  if (format.include_probabilities) {
    if (task.kind == TaskKind::kBinary) out += ",probability";
    if (task.kind == TaskKind::kMulticlass) {
      for (int64_t k = 0; k < task.num_classes; ++k) out += ",p" + std::to_string(k);
    }
  }
  return out;
}

}  // namespace streamml::model
