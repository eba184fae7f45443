// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// RecordMeta: where a decoded record came from, and meta_of(), the one place
// a Kafka message becomes one.
#pragma once

#include <cstdint>
#include <string>

#include "streamml/kafka/types.h"

namespace streamml::kafka {
class Message;
}  // namespace streamml::kafka

namespace streamml::data {

// Where a record came from. For Kafka records: topic, partition, offset,
// timestamp, key and headers. For file records: topic holds the file path and
// offset the 1-based line number (partition is -1).
struct RecordMeta {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;  // Kafka timestamp, ms since the Unix epoch (Kafka's unit); -1: none
  bool has_key = false;
  std::string key;  // empty when the key is null (has_key == false)
  kafka::Headers headers;

  // "topic:partition:offset" or "file:line", for error messages.
  std::string location() const;
};

// The topic, partition, offset, timestamp, key and headers of `m`.
RecordMeta meta_of(const kafka::Message& m);
// The same, with the topic name the caller already holds for `m` (saves
// building it from the message).
RecordMeta meta_of(const kafka::Message& m, const std::string& topic);

}  // namespace streamml::data
