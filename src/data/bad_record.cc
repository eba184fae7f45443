// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/bad_record.h"

#include <fmt/format.h>

#include "data/spec_reader.h"
#include "streamml/common/error.h"

namespace streamml::data {

BadRecordPolicy parse_bad_record_policy(std::string_view name) {
  if (name == "fail") return BadRecordPolicy::kFail;
  if (name == "skip") return BadRecordPolicy::kSkip;
  if (name == "dead-letter" || name == "dead_letter" || name == "dlq") {
    return BadRecordPolicy::kDeadLetter;
  }
  throw ConfigError("invalid bad-record policy " + internal::quote_value(name) +
                    " (expected fail, skip or dead-letter)");
}

std::string_view to_string(BadRecordPolicy policy) {
  switch (policy) {
    case BadRecordPolicy::kFail:
      return "fail";
    case BadRecordPolicy::kSkip:
      return "skip";
    case BadRecordPolicy::kDeadLetter:
      return "dead-letter";
  }
  return "fail";
}

std::string BadRecordReport::summary() const {
  if (count == 0) return "no bad records";
  std::string out = fmt::format("{} bad record{}", count, count == 1 ? "" : "s");
  for (size_t i = 0; i < examples.size(); ++i) {
    out += i == 0 ? "; first: " : "; ";
    out += examples[i].location + ": " + examples[i].reason;
  }
  if (examples.size() < count) out += fmt::format("; ... {} more", count - examples.size());
  return out;
}

void BadRecordCounter::add(std::string location, std::string reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++report_.count;
  if (report_.examples.size() < max_examples_) {
    report_.examples.push_back(BadRecord{std::move(location), std::move(reason)});
  }
}

uint64_t BadRecordCounter::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return report_.count;
}

BadRecordReport BadRecordCounter::report() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return report_;
}

void BadRecordCounter::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  report_ = BadRecordReport{};
}

}  // namespace streamml::data
