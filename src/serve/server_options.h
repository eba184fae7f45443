// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The checks Server's constructor makes on its options, and the defaults it
// fills in. No broker: nothing connects.
#pragma once

#include "serve/delivery_pipeline.h"
#include "streamml/kafka/config.h"
#include "streamml/serve/server.h"

namespace streamml::serve {

// Throws ConfigError naming the first invalid option; sets instance_id to
// the host name when empty.
void validate(ServerOptions& options);

// The producer configuration run() gives its output producer: `kafka` with
// linger.ms=1 and queue.buffering.max.kbytes=65536 unless given.
kafka::Config output_producer_config(const ServerOptions& options);

// At-least-once back-pressure, from the output producer's configuration:
// max_in_flight records (0: as many as its queue holds,
// queue.buffering.max.messages), and half its queue's bytes
// (queue.buffering.max.kbytes), so that the next micro-batch's outputs fit
// in the queue rather than block in produce().
InFlightLimit in_flight_limit(const ServerOptions& options, const kafka::Config& producer_config);

}  // namespace streamml::serve
