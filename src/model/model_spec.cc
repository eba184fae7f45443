// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/model/model_spec.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "streamml/common/error.h"

namespace streamml::model {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace

Activation parse_activation(std::string_view name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "tanh") return Activation::kTanh;
  if (name == "gelu") return Activation::kGelu;
  throw ConfigError(fmt::format("invalid activation '{}': expected relu, tanh or gelu", name));
}

std::string activation_name(Activation activation) {
  switch (activation) {
    case Activation::kRelu: return "relu";
    case Activation::kTanh: return "tanh";
    case Activation::kGelu: return "gelu";
  }
  return "relu";
}

std::string ModelSpec::to_string() const {
  std::string out = "mlp:";
  for (size_t i = 0; i < hidden.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(hidden[i]);
  }
  out += ";activation=" + activation_name(activation);
  out += fmt::format(";dropout={}", dropout);
  return out;
}

ModelSpec parse_model_spec(std::string_view spec) {
  ModelSpec result;
  std::vector<std::string_view> parts = split(spec, ';');
  std::string_view arch = parts[0];
  if (arch == "linear" || arch == "mlp" || arch == "mlp:") {
    // No hidden layer.
  } else if (arch.substr(0, 4) == "mlp:") {
    for (std::string_view width : split(arch.substr(4), ',')) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(width.data(), width.data() + width.size(), value);
      if (ec != std::errc() || ptr != width.data() + width.size() || value <= 0 ||
          value > (int64_t{1} << 24)) {
        throw ConfigError(fmt::format(
            "invalid model spec '{}': hidden width '{}' is not a positive integer", spec, width));
      }
      result.hidden.push_back(value);
    }
  } else {
    throw ConfigError(fmt::format(
        "invalid model spec '{}': expected mlp:W1,W2,... or linear (options ;activation=, ;dropout=)",
        spec));
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view option = parts[i];
    if (option.empty()) continue;
    size_t eq = option.find('=');
    std::string_view key = option.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : option.substr(eq + 1);
    if (key == "activation") {
      try {
        result.activation = parse_activation(value);
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("invalid model spec '{}': {}", spec, e.what()));
      }
    } else if (key == "dropout") {
      std::string text(value);
      char* end = nullptr;
      double p = text.empty() ? -1.0 : std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !(p >= 0.0 && p < 1.0)) {
        throw ConfigError(
            fmt::format("invalid model spec '{}': dropout '{}' must be in [0, 1)", spec, value));
      }
      result.dropout = p;
    } else {
      throw ConfigError(fmt::format(
          "invalid model spec '{}': unknown option '{}' (expected activation or dropout)", spec, key));
    }
  }
  return result;
}

}  // namespace streamml::model
