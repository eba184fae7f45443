// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/record_meta.h"

#include "streamml/kafka/message.h"

namespace streamml::data {

std::string RecordMeta::location() const {
  if (partition < 0) return topic + ":" + std::to_string(offset);
  return topic + ":" + std::to_string(partition) + ":" + std::to_string(offset);
}

RecordMeta meta_of(const kafka::Message& m) { return meta_of(m, m.topic()); }

RecordMeta meta_of(const kafka::Message& m, const std::string& topic) {
  RecordMeta meta;
  meta.topic = topic;
  meta.partition = m.partition();
  meta.offset = m.offset();
  meta.timestamp_ms = m.timestamp_ms();
  meta.has_key = m.has_key();
  if (meta.has_key) meta.key = std::string(m.key());
  meta.headers = m.headers();
  return meta;
}

}  // namespace streamml::data
