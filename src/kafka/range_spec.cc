// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/kafka/range_spec.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include "streamml/common/error.h"
#include "streamml/kafka/consumer.h"

namespace streamml::kafka {
namespace {

constexpr const char* kExpectedForm =
    "expected topic[:partition[:start[:end]]] where start/end are beginning, end, an offset, -1, -2 or "
    "@<unix-ms>, and end is inclusive (e.g. events:0:100:199)";

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw ConfigError("invalid range spec '" + std::string(text) + "': " + why + "; " + kExpectedForm);
}

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

OffsetSpec parse_offset(std::string_view text, std::string_view field, const char* which) {
  if (field.empty() || field == "beginning" || field == "-2") {
    return field.empty() && std::string_view(which) == "end" ? OffsetSpec::end() : OffsetSpec::beginning();
  }
  if (field == "end" || field == "-1") return OffsetSpec::end();
  int64_t value = 0;
  if (field.front() == '@') {
    if (!parse_int(field.substr(1), &value) || value < 0) {
      fail(text, std::string(which) + " '" + std::string(field) + "' is not a valid @<unix-ms> timestamp");
    }
    return OffsetSpec::time(value);
  }
  if (!parse_int(field, &value) || value < 0) {
    fail(text, std::string(which) + " '" + std::string(field) + "' is not an offset");
  }
  return OffsetSpec::at(value);
}

bool valid_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

}  // namespace

std::string OffsetSpec::to_string() const {
  switch (kind) {
    case Kind::kBeginning: return "beginning";
    case Kind::kEnd: return "end";
    case Kind::kOffset: return std::to_string(value);
    case Kind::kTimestamp: return "@" + std::to_string(value);
  }
  return "?";
}

std::string RangeSpec::to_string() const {
  return topic + ":" + (partition ? std::to_string(*partition) : std::string()) + ":" + start.to_string() + ":" +
         end.to_string();
}

std::string ResolvedRange::to_string() const {
  // Inclusive, as the SPEC grammar: t:0:5..9 holds offsets 5 to 9.
  const std::string tp = topic + ":" + std::to_string(partition) + ":";
  if (size() == 0) return tp + "empty@" + std::to_string(start);
  return tp + std::to_string(start) + ".." + std::to_string(end - 1);
}

RangeSpec parse_range_spec(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    size_t colon = text.find(':', begin);
    fields.push_back(text.substr(begin, colon == std::string_view::npos ? std::string_view::npos : colon - begin));
    if (colon == std::string_view::npos) break;
    begin = colon + 1;
  }
  if (fields.size() > 4) fail(text, "too many ':' separated fields");
  RangeSpec spec;
  spec.topic = std::string(fields[0]);
  if (spec.topic.empty()) fail(text, "the topic is empty");
  for (char c : spec.topic) {
    if (!valid_topic_char(c)) fail(text, "topic names may contain only [a-zA-Z0-9._-]");
  }
  if (spec.topic.size() > 249) fail(text, "topic names are at most 249 characters");
  if (fields.size() > 1 && !fields[1].empty()) {
    int64_t p = 0;
    if (!parse_int(fields[1], &p) || p < 0 || p > INT32_MAX) {
      fail(text, "partition '" + std::string(fields[1]) + "' is not a non-negative number");
    }
    spec.partition = static_cast<int32_t>(p);
  }
  if (fields.size() > 2) spec.start = parse_offset(text, fields[2], "start");
  if (fields.size() > 3) spec.end = parse_offset(text, fields[3], "end");
  if (spec.start.kind == OffsetSpec::Kind::kOffset && spec.end.kind == OffsetSpec::Kind::kOffset &&
      spec.end.value < spec.start.value) {
    fail(text, "end " + std::to_string(spec.end.value) + " is before start " + std::to_string(spec.start.value));
  }
  return spec;
}

std::vector<ResolvedRange> resolve_ranges(const Consumer& consumer, const std::vector<RangeSpec>& specs,
                                          milliseconds timeout, FutureOffsets future) {
  std::vector<ResolvedRange> out;
  for (const auto& spec : specs) {
    std::vector<int32_t> all = consumer.partitions_of(spec.topic, timeout);
    std::vector<int32_t> partitions;
    if (spec.partition) {
      if (std::find(all.begin(), all.end(), *spec.partition) == all.end()) {
        throw KafkaException(3 /* UNKNOWN_TOPIC_OR_PART */,
                             "partition " + std::to_string(*spec.partition) + " of topic '" + spec.topic +
                                 "' does not exist (the topic has " + std::to_string(all.size()) +
                                 " partition(s))");
      }
      partitions.push_back(*spec.partition);
    } else {
      partitions = all;
    }
    for (int32_t p : partitions) {
      Watermarks w = consumer.query_watermarks(spec.topic, p, timeout);
      auto resolve = [&](const OffsetSpec& o, bool is_end) -> int64_t {
        switch (o.kind) {
          case OffsetSpec::Kind::kBeginning: return w.low;
          case OffsetSpec::Kind::kEnd: return w.high;
          case OffsetSpec::Kind::kOffset: return is_end ? o.value + 1 : o.value;
          case OffsetSpec::Kind::kTimestamp:
            return consumer.offsets_for_times({{spec.topic, p, o.value}}, timeout).front().offset;
        }
        return w.high;
      };
      ResolvedRange r{spec.topic, p, resolve(spec.start, false), resolve(spec.end, true)};
      // Offsets not produced yet: a bounded read would wait for them, for
      // ever if they never come; it does only when asked to. (Checked before
      // retention: a start past the end is not a loss.)
      const bool end_past = spec.end.kind == OffsetSpec::Kind::kOffset && r.end > w.high;
      const bool start_past = spec.start.kind == OffsetSpec::Kind::kOffset && r.start > w.high;
      if ((end_past || start_past) && future == FutureOffsets::kFail) {
        const std::string partition = spec.topic + ":" + std::to_string(p);
        const std::string holds = w.high > w.low ? partition + " ends at offset " + std::to_string(w.high - 1)
                                                 : partition + " holds no record (its next offset is " +
                                                       std::to_string(w.high) + ")";
        const std::string asked = std::to_string(r.start) + ".." +
                                  (spec.end.kind == OffsetSpec::Kind::kEnd ? std::string("end")
                                                                           : std::to_string(r.end - 1));
        throw InputError(holds + "; the range asks for " + asked + " (those records do not exist yet)");
      }
      if (r.start < w.low && r.end > r.start) {
        throw DataLossError("records " + std::to_string(r.start) + ".." +
                            std::to_string(std::min(r.end, w.low) - 1) + " of " + spec.topic + ":" +
                            std::to_string(p) + " are no longer in the log (the log now starts at offset " +
                            std::to_string(w.low) + "; retention removed them)");
      }
      if (r.end < r.start) r.end = r.start;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace streamml::kafka
