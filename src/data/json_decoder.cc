// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/json_decoder.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <string_view>
#include <unordered_set>

#include "data/decoder_factories.h"
#include "data/float_parser.h"
#include "data/spec_reader.h"
#include "streamml/common/error.h"

namespace streamml::data {

namespace {

constexpr std::string_view kJsonForm =
    "json:features=PATH+..[,label=PATH+..][,features_only][,missing=error|zero|nan] where PATH is a, a.b.c, "
    "arr[2] or arr[0..3]";
// Elements one [A..B] range may select. Each becomes a feature with its own
// name and path, so a million-element range took seconds to build (and made
// decoder_spec_fuzz crawl); 65,536 is far more than a JSON record's array of
// features needs.
constexpr size_t kMaxRange = size_t{1} << 16;

using Step = JsonDecoder::Step;

[[noreturn]] void config_error(std::string_view option, const std::string& why) {
  throw ConfigError("json decoder: option '" + std::string(option) + "': " + why +
                    " (expected: " + std::string(kJsonForm) + ")");
}

// Parses one path; a trailing [A..B] expands to one path per element.
void parse_path(std::string_view path, std::string_view option, std::vector<std::string>& names,
                std::vector<std::vector<Step>>& paths) {
  auto bad = [&](const std::string& why) {
    config_error(option, "path " + internal::quote_value(path) + ": " + why);
  };
  std::vector<Step> steps;
  std::optional<std::pair<size_t, size_t>> range;
  size_t prefix_end = path.size();
  size_t i = 0;
  bool expect_key = path.empty() || path[0] != '[';
  while (i < path.size()) {
    if (range) bad("a range [A..B] must be the last step");
    if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos) bad("'[' without ']'");
      const std::string_view inside = path.substr(i + 1, close - i - 1);
      bool reversed = false;
      if (auto r = internal::parse_range(inside, &reversed)) {
        if (r->second - r->first >= kMaxRange) bad(fmt::format("range too large (at most {} elements)", kMaxRange));
        range = r;
        prefix_end = i;
      } else if (reversed) {
        bad("range ends before it starts");
      } else if (auto index = internal::parse_index(inside)) {
        steps.push_back(Step{{}, *index, true});
      } else {
        bad("expected [N] or [A..B], got [" + std::string(inside) + "]");
      }
      i = close + 1;
      expect_key = false;
      if (i < path.size() && path[i] != '[' && path[i] != '.') bad("expected '.' or '[' after ']'");
      continue;
    }
    if (path[i] == '.') {
      if (expect_key) bad("empty key");
      ++i;
      expect_key = true;
      if (i == path.size()) bad("empty key at the end");
      continue;
    }
    size_t stop = path.find_first_of(".[", i);
    if (stop == std::string_view::npos) stop = path.size();
    steps.push_back(Step{std::string(path.substr(i, stop - i)), 0, false});
    expect_key = false;
    i = stop;
  }
  if (steps.empty() && !range) bad("empty path");
  if (!range) {
    names.emplace_back(path);
    paths.push_back(std::move(steps));
    return;
  }
  const std::string prefix(path.substr(0, prefix_end));
  for (size_t k = range->first; k <= range->second; ++k) {
    names.push_back(fmt::format("{}[{}]", prefix, k));
    std::vector<Step> element = steps;
    element.push_back(Step{{}, k, true});
    paths.push_back(std::move(element));
  }
}

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

JsonDecoder::JsonDecoder(JsonOptions options) : options_(std::move(options)) {
  if (options_.features.empty()) config_error("features", "at least one feature path is needed");
  for (const std::string& path : options_.features) parse_path(path, "features", names_, paths_);
  num_features_ = names_.size();
  for (const std::string& path : options_.labels) parse_path(path, "label", names_, paths_);
  // The label paths are checked above; features_only then drops them, so a
  // document with or without its labels decodes the same.
  const size_t num_selected = names_.size();
  if (options_.features_only) paths_.resize(num_features_);
  for (const std::vector<Step>& path : paths_) {
    if (path.empty() || path[0].is_index) {
      top_key_of_path_.push_back(-1);
      continue;
    }
    auto [it, inserted] = top_key_index_.emplace(path[0].key, top_key_index_.size());
    top_key_of_path_.push_back(static_cast<int32_t>(it->second));
  }
  // A hash set: ranges expand to many names (pairwise, a spec of a million
  // names took minutes; found by decoder_spec_fuzz).
  std::unordered_set<std::string_view> seen;
  seen.reserve(num_selected);
  for (size_t i = 0; i < num_selected; ++i) {
    if (!seen.insert(names_[i]).second) {
      config_error(i < num_features_ ? "features" : "label", "\"" + names_[i] + "\" is selected twice");
    }
  }
  if (options_.features_only) names_.resize(num_features_);
}

std::vector<std::string> JsonDecoder::feature_names() const {
  return {names_.begin(), names_.begin() + static_cast<ptrdiff_t>(num_features_)};
}

std::vector<std::string> JsonDecoder::label_names() const {
  return {names_.begin() + static_cast<ptrdiff_t>(num_features_), names_.end()};
}

std::optional<std::string> JsonDecoder::decode(std::string_view document, float* features,
                                               float* labels) const {
  simdjson::dom::element root;
  if (auto error = thread_parser().parse(document.data(), document.size()).get(root)) {
    return std::string("invalid JSON: ") + simdjson::error_message(error);
  }
  // One pass over the top-level object finds every path's first key (the
  // first occurrence of a repeated key wins, as with at_key()).
  thread_local std::vector<simdjson::dom::element> top_values;
  thread_local std::vector<uint8_t> top_found;
  simdjson::dom::object root_object;
  const bool is_object = !root.get_object().get(root_object);
  if (is_object) {
    top_values.resize(top_key_index_.size());
    top_found.assign(top_key_index_.size(), 0);
    for (simdjson::dom::key_value_pair field : root_object) {
      auto it = top_key_index_.find(field.key);
      if (it != top_key_index_.end() && top_found[it->second] == 0) {
        top_found[it->second] = 1;
        top_values[it->second] = field.value;
      }
    }
  }
  const MissingPolicy policy = options_.missing;
  for (size_t slot = 0; slot < paths_.size(); ++slot) {
    float* out = slot < num_features_ ? &features[slot] : &labels[slot - num_features_];
    simdjson::dom::element element = root;
    const char* problem = nullptr;
    const std::vector<Step>& path = paths_[slot];
    size_t first_step = 0;
    if (is_object && top_key_of_path_[slot] >= 0) {
      const auto top = static_cast<size_t>(top_key_of_path_[slot]);
      if (top_found[top] != 0) {
        element = top_values[top];
        first_step = 1;
      } else {
        problem = "is missing";
      }
    }
    for (size_t s = first_step; problem == nullptr && s < path.size(); ++s) {
      const Step& step = path[s];
      if (step.is_index) {
        simdjson::dom::array array;
        if (element.get_array().get(array)) {
          problem = "is not reachable (not an array on the way)";
          break;
        }
        if (array.at(step.index).get(element)) {
          problem = "is missing (past the end of the array)";
          break;
        }
      } else {
        simdjson::dom::object object;
        if (element.get_object().get(object)) {
          problem = "is not reachable (not an object on the way)";
          break;
        }
        if (object.at_key(step.key).get(element)) {
          problem = "is missing";
          break;
        }
      }
    }
    float value = 0.0f;
    std::string_view text;
    bool show_text = false;
    if (problem == nullptr) {
      switch (element.type()) {
        case simdjson::dom::element_type::INT64:
          value = static_cast<float>(int64_t(element));
          break;
        case simdjson::dom::element_type::UINT64:
          value = static_cast<float>(uint64_t(element));
          break;
        case simdjson::dom::element_type::DOUBLE:
          value = static_cast<float>(double(element));
          break;
        case simdjson::dom::element_type::BOOL:
          value = bool(element) ? 1.0f : 0.0f;
          break;
        case simdjson::dom::element_type::NULL_VALUE:
          problem = "is null";
          break;
        case simdjson::dom::element_type::STRING:
          text = std::string_view(element);
          if (!internal::parse_float(text, value)) {
            problem = "is not a number: ";
            show_text = true;
          }
          break;
        case simdjson::dom::element_type::ARRAY:
          problem = "is an array, not a number";
          break;
        case simdjson::dom::element_type::OBJECT:
          problem = "is an object, not a number";
          break;
      }
    }
    if (problem != nullptr) {
      if (policy == MissingPolicy::kError) {
        std::string reason = "field '" + names_[slot] + "' " + problem;
        if (show_text) reason += internal::quote_value(text);
        return reason;
      }
      value = internal::missing_value(policy);
    }
    *out = value;
  }
  return std::nullopt;
}

std::string JsonDecoder::spec() const {
  std::string out = "json:features=" + internal::join_items(options_.features) + ",";
  if (!options_.labels.empty()) out += "label=" + internal::join_items(options_.labels) + ",";
  if (options_.features_only) out += "features_only,";
  out += "missing=" + std::string(to_string(options_.missing));
  return out;
}

namespace internal {

std::unique_ptr<Decoder> make_json_decoder(const DecoderSpec& spec) {
  SpecReader reader(spec, {"features", "label", "features_only", "missing"}, kJsonForm);
  JsonOptions options;
  if (auto features = reader.list("features")) options.features = std::move(*features);
  if (auto labels = reader.list("label")) options.labels = std::move(*labels);
  options.features_only = reader.flag("features_only");
  options.missing = reader.missing();
  reader.finish();
  if (options.features.empty()) reader.fail("features", "is required for json");
  try {
    return std::make_unique<JsonDecoder>(std::move(options));
  } catch (const ConfigError& e) {
    throw ConfigError(spec_context(spec.text()) + e.what());
  }
}

}  // namespace internal

}  // namespace streamml::data
