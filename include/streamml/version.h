// Copyright streamml authors. Licensed under the Apache License 2.0.
#pragma once

namespace streamml {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace streamml
