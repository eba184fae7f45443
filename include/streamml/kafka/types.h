// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Small value types shared by the Kafka clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace streamml::kafka {

using std::chrono::milliseconds;

// Named default timeouts.
inline constexpr milliseconds kDefaultTimeout{10000};
inline constexpr milliseconds kDefaultFlushTimeout{30000};
inline constexpr milliseconds kDefaultCloseTimeout{10000};

// Special offsets, with Kafka's values.
inline constexpr int64_t kOffsetBeginning = -2;
inline constexpr int64_t kOffsetEnd = -1;
inline constexpr int64_t kOffsetStored = -1000;
inline constexpr int64_t kOffsetInvalid = -1001;
inline constexpr int32_t kPartitionAny = -1;

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = kOffsetInvalid;

  friend bool operator==(const TopicPartitionOffset&, const TopicPartitionOffset&) = default;
};

struct Header {
  std::string name;
  std::optional<std::string> value;  // nullopt: a header with a null value

  friend bool operator==(const Header&, const Header&) = default;
};
using Headers = std::vector<Header>;

// Low and high watermarks of a partition: the first offset still in the log,
// and the offset the next produced record will get.
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

}  // namespace streamml::kafka
