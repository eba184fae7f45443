// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The text of a KafkaDataset's state() for a consumer group:
// "group TOPIC:PARTITION:OFFSET ...", the positions it returned up to.
// Pure functions.
#pragma once

#include <string>
#include <vector>

#include "streamml/kafka/types.h"

namespace streamml::data {

// "group t:0:42 t:1:7" (just "group" when nothing was returned).
std::string format_group_state(const std::vector<kafka::TopicPartitionOffset>& positions);

// Parses the items after "group". Throws ConfigError naming `state` and the
// first item that is not TOPIC:PARTITION:OFFSET with a non-negative
// partition and offset.
std::vector<kafka::TopicPartitionOffset> parse_group_state(const std::string& state);

}  // namespace streamml::data
