// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/dataset_state.h"

#include <charconv>
#include <climits>
#include <optional>
#include <sstream>
#include <string_view>

#include "streamml/common/error.h"

namespace streamml::data {
namespace {

// A non-negative decimal, or nullopt.
std::optional<int64_t> parse_number(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// TOPIC:PARTITION:OFFSET (the topic may hold ':'), or nullopt.
std::optional<kafka::TopicPartitionOffset> parse_item(const std::string& item) {
  const size_t a = item.rfind(':');
  if (a == std::string::npos || a == 0) return std::nullopt;
  const size_t b = item.rfind(':', a - 1);
  if (b == std::string::npos || b == 0) return std::nullopt;
  const std::optional<int64_t> partition = parse_number(std::string_view(item).substr(b + 1, a - b - 1));
  const std::optional<int64_t> offset = parse_number(std::string_view(item).substr(a + 1));
  if (!partition || !offset || *partition > INT32_MAX) return std::nullopt;
  return kafka::TopicPartitionOffset{item.substr(0, b), static_cast<int32_t>(*partition), *offset};
}

}  // namespace

std::string format_group_state(const std::vector<kafka::TopicPartitionOffset>& positions) {
  std::ostringstream out;
  out << "group";
  for (const auto& p : positions) out << ' ' << p.topic << ':' << p.partition << ':' << p.offset;
  return out.str();
}

std::vector<kafka::TopicPartitionOffset> parse_group_state(const std::string& state) {
  auto bad = [&](const std::string& why) {
    return ConfigError("cannot restore dataset state '" + state + "': " + why);
  };
  std::istringstream in(state);
  std::string item;
  if (!(in >> item) || item != "group") {
    throw bad("a consumer-group dataset expects 'group TOPIC:PARTITION:OFFSET ...'");
  }
  std::vector<kafka::TopicPartitionOffset> offsets;
  while (in >> item) {
    std::optional<kafka::TopicPartitionOffset> parsed = parse_item(item);
    if (!parsed) throw bad("'" + item + "' is not TOPIC:PARTITION:OFFSET with a non-negative partition and offset");
    offsets.push_back(std::move(*parsed));
  }
  return offsets;
}

}  // namespace streamml::data
