// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// DeadLetterProducer: writes records that could not be decoded to a
// dead-letter topic, unchanged (original key and payload bytes), with headers
// that say why and where they came from:
//   streamml.error             the reason
//   streamml.source.topic      source topic (or file path)
//   streamml.source.partition  source partition (-1 for files)
//   streamml.source.offset     source offset (line number for files)
//   streamml.source.timestamp  source timestamp (ms), when known
// A record too large for the topic (the producer's message.max.bytes) goes
// there truncated to what fits, with two more headers:
//   streamml.truncated         "true"
//   streamml.original.size     the payload's size in bytes before truncation
// Thread-safe (the underlying producer is).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "streamml/data/batch.h"
#include "streamml/data/file_source.h"
#include "streamml/kafka/config.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka {
class Producer;
}

namespace streamml::data {

inline constexpr const char* kHeaderError = "streamml.error";
inline constexpr const char* kHeaderSourceTopic = "streamml.source.topic";
inline constexpr const char* kHeaderSourcePartition = "streamml.source.partition";
inline constexpr const char* kHeaderSourceOffset = "streamml.source.offset";
inline constexpr const char* kHeaderSourceTimestamp = "streamml.source.timestamp";
inline constexpr const char* kHeaderTruncated = "streamml.truncated";
inline constexpr const char* kHeaderOriginalSize = "streamml.original.size";

class DeadLetterProducer {
 public:
  // Throws ConfigError when `topic` is empty or the config is invalid.
  DeadLetterProducer(kafka::Config config, std::string topic);
  ~DeadLetterProducer();  // flushes; never throws
  DeadLetterProducer(const DeadLetterProducer&) = delete;
  DeadLetterProducer& operator=(const DeadLetterProducer&) = delete;

  // Enqueues one dead letter (truncated when too large, see above). Throws
  // kafka::KafkaException when it cannot be queued.
  void send(const RecordMeta& meta, std::string_view payload, std::string_view reason);
  // Waits for delivery; throws kafka::KafkaException naming the topic when any dead
  // letter was not delivered (a dead letter must never vanish).
  void flush(kafka::milliseconds timeout = kafka::kDefaultFlushTimeout);
  // A sink for FileSource/KafkaDataset options that calls send().
  DeadLetterSink sink();

  uint64_t sent() const;
  const std::string& topic() const { return topic_; }

 private:
  std::string topic_;
  size_t max_message_bytes_;  // the producer's message.max.bytes
  std::unique_ptr<kafka::Producer> producer_;
  std::atomic<uint64_t> sent_{0};
};

}  // namespace streamml::data
