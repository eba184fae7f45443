// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// One deleter and one unique_ptr alias per librdkafka handle type, so every
// handle is released exactly once. Internal to the Kafka layer's users that
// need an escape hatch to the C API.
#pragma once

#include <memory>

struct rd_kafka_s;
struct rd_kafka_conf_s;
struct rd_kafka_topic_partition_list_s;
struct rd_kafka_queue_s;
struct rd_kafka_error_s;
struct rd_kafka_message_s;

namespace streamml::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_s* rk) const noexcept;
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_s* conf) const noexcept;
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_s* list) const noexcept;
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_s* queue) const noexcept;
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_s* error) const noexcept;
};

using HandlePtr = std::unique_ptr<rd_kafka_s, HandleDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_s, ConfDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_s, PartitionListDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_s, QueueDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_s, ErrorDeleter>;

}  // namespace streamml::kafka
