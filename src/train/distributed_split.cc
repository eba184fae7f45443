// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The deterministic parts of distributed training: the split of bounded
// ranges between the ranks and the merge of their offsets.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "streamml/train/distributed.h"

namespace streamml::train {

std::vector<kafka::ResolvedRange> split_ranges(const std::vector<kafka::ResolvedRange>& ranges, int rank,
                                               int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw ConfigError(fmt::format("rank {} of world size {} is invalid", rank, world_size));
  }
  std::vector<kafka::ResolvedRange> share;
  for (const kafka::ResolvedRange& range : ranges) {
    const int64_t size = range.size();
    const int64_t n = world_size;
    // Piece r starts after r pieces; the first size % n pieces hold one more.
    auto piece_start = [&](int64_t r) { return range.start + r * (size / n) + std::min(r, size % n); };
    kafka::ResolvedRange piece = range;
    piece.start = piece_start(rank);
    piece.end = piece_start(rank + 1);
    if (piece.size() > 0) share.push_back(piece);
  }
  return share;
}

std::vector<kafka::TopicPartitionOffset> merge_offsets(
    const std::vector<std::vector<kafka::TopicPartitionOffset>>& per_rank) {
  std::map<std::pair<std::string, int32_t>, int64_t> furthest;
  for (const auto& offsets : per_rank) {
    for (const kafka::TopicPartitionOffset& o : offsets) {
      auto [it, inserted] = furthest.emplace(std::make_pair(o.topic, o.partition), o.offset);
      if (!inserted) it->second = std::max(it->second, o.offset);
    }
  }
  std::vector<kafka::TopicPartitionOffset> out;
  for (const auto& [tp, offset] : furthest) out.push_back({tp.first, tp.second, offset});
  return out;
}

std::string offsets_to_text(const std::vector<kafka::TopicPartitionOffset>& offsets) {
  std::string out;
  for (const kafka::TopicPartitionOffset& o : offsets) {
    out += fmt::format("{}{}:{}:{}", out.empty() ? "" : " ", o.topic, o.partition, o.offset);
  }
  return out;
}

std::vector<kafka::TopicPartitionOffset> offsets_from_text(const std::string& text) {
  std::vector<kafka::TopicPartitionOffset> out;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    const size_t a = item.rfind(':');
    const size_t b = a == std::string::npos || a == 0 ? std::string::npos : item.rfind(':', a - 1);
    if (b == std::string::npos || b == 0) throw Error(fmt::format("'{}' is not TOPIC:PARTITION:OFFSET", item));
    try {
      out.push_back({item.substr(0, b), static_cast<int32_t>(std::stol(item.substr(b + 1, a - b - 1))),
                     std::stoll(item.substr(a + 1))});
    } catch (const std::exception&) {
      throw Error(fmt::format("'{}' is not TOPIC:PARTITION:OFFSET", item));
    }
  }
  return out;
}

}  // namespace streamml::train
