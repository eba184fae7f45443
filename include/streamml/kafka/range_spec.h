// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RangeSpec: the `topic[:partition[:start[:end]]]` grammar shared by
// `streamml consume`, KafkaDataset and the train/predict commands.
//
//   topic                  every partition, beginning to end
//   topic:2                partition 2, beginning to end
//   topic:2:100            partition 2, offset 100 to end
//   topic:2:100:199        partition 2, offsets 100..199 (end INCLUSIVE, as in
//                          TensorFlow I/O)
//   topic::@1700000000000  every partition, from the first record at or after
//                          that time (unix ms) to the end
//
// start and end may be `beginning`, `end`, a non-negative offset, `-2`
// (beginning), `-1` (end: the high watermark when the range is resolved), or
// `@<unix-ms>` (the first offset whose timestamp is >= the time; as an end, the
// range stops before that offset). An empty partition field means every
// partition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/kafka/types.h"

namespace streamml::kafka {

class Consumer;

struct OffsetSpec {
  enum class Kind { kBeginning, kEnd, kOffset, kTimestamp };
  Kind kind = Kind::kBeginning;
  int64_t value = 0;  // offset or unix ms

  static OffsetSpec beginning() { return {Kind::kBeginning, 0}; }
  static OffsetSpec end() { return {Kind::kEnd, 0}; }
  static OffsetSpec at(int64_t offset) { return {Kind::kOffset, offset}; }
  static OffsetSpec time(int64_t unix_ms) { return {Kind::kTimestamp, unix_ms}; }
  friend bool operator==(const OffsetSpec&, const OffsetSpec&) = default;
  std::string to_string() const;
};

struct RangeSpec {
  std::string topic;
  std::optional<int32_t> partition;  // nullopt: every partition
  OffsetSpec start = OffsetSpec::beginning();
  OffsetSpec end = OffsetSpec::end();  // an offset here is inclusive

  friend bool operator==(const RangeSpec&, const RangeSpec&) = default;
  std::string to_string() const;
};

// Parses one spec. Throws ConfigError quoting the spec and the expected form.
RangeSpec parse_range_spec(std::string_view text);

// A concrete range: offsets [start, end) of one partition.
struct ResolvedRange {
  std::string topic;
  int32_t partition = 0;
  int64_t start = 0;
  int64_t end = 0;  // exclusive

  int64_t size() const { return end > start ? end - start : 0; }
  friend bool operator==(const ResolvedRange&, const ResolvedRange&) = default;
  std::string to_string() const;  // "topic:2:5..9" (inclusive), "topic:2:empty@5"
};

// What resolve_ranges() does with a range that asks for offsets not produced
// yet: an explicit end offset past the partition's newest record, or an
// explicit start offset past its end.
enum class FutureOffsets {
  kFail,  // InputError "t:0 ends at offset 281; the range asks for 150..6000"
  kWait,  // keep the range as asked: a bounded read waits for those records
};

// Resolves specs against the cluster (partitions, watermarks, timestamps), in
// spec order; a spec without partition expands to every partition in id order.
// Throws KafkaException for a missing topic/partition, DataLossError when a
// requested start offset is below the log start ("records X..Y of t:p are no
// longer in the log"), and under FutureOffsets::kFail InputError for a range
// that asks for offsets not produced yet.
std::vector<ResolvedRange> resolve_ranges(const Consumer& consumer, const std::vector<RangeSpec>& specs,
                                          milliseconds timeout = kDefaultTimeout,
                                          FutureOffsets future = FutureOffsets::kFail);

}  // namespace streamml::kafka
