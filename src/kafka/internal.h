// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the Kafka layer's translation units (not public API).
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

#include "streamml/kafka/config.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/handle.h"
#include "streamml/kafka/types.h"

namespace streamml::kafka::internal {

// Which kind of client reads a librdkafka property (its "C/P" column).
enum class PropertyKind { kAny, kConsumer, kProducer };
PropertyKind property_kind(const std::string& name);

// Builds a librdkafka conf for a client of `type` from `config` and routes
// librdkafka's log lines to streamml's logger. Properties only the other kind
// of client reads are left out (logged at debug level): one Config serves a
// command's consumers and producers, and librdkafka would warn (CONFWARN)
// about each of them. Every client gets socket.nagle.disable=true
// (TCP_NODELAY) unless `config` sets it. Throws ConfigError naming the key.
ConfPtr make_conf(rd_kafka_type_t type, const Config& config);

// Creates a client handle of the given type (takes ownership of conf).
HandlePtr make_handle(rd_kafka_type_t type, ConfPtr conf);

// The one place librdkafka return codes become KafkaError values.
KafkaError to_error(rd_kafka_resp_err_t err, std::string detail = {});
KafkaError to_error(rd_kafka_error_t* error);  // does not destroy `error`

// Throws KafkaException with `what` when err != NO_ERROR.
void check(rd_kafka_resp_err_t err, const std::string& what);

PartitionListPtr to_list(const std::vector<TopicPartitionOffset>& offsets);
PartitionListPtr to_list(const std::vector<TopicPartition>& partitions);
std::vector<TopicPartitionOffset> from_list(const rd_kafka_topic_partition_list_t* list);

// Splits "a:1,b:2" into addresses.
std::vector<std::string> split_bootstrap(const std::string& servers);

}  // namespace streamml::kafka::internal
