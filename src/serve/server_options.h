// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The checks Server's constructor makes on its options, and the defaults it
// fills in. No broker: nothing connects.
#pragma once

#include "streamml/serve/server.h"

namespace streamml::serve {

// Throws ConfigError naming the first invalid option; sets instance_id to
// the host name when empty.
void validate(ServerOptions& options);

}  // namespace streamml::serve
