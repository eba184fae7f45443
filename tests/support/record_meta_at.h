// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// A RecordMeta for unit tests: topic "t", partition 0, the given offset.
#pragma once

#include <cstdint>

#include "streamml/data/record_meta.h"

namespace streamml::testing {

inline data::RecordMeta meta_at(int64_t offset) {
  data::RecordMeta meta;
  meta.topic = "t";
  meta.partition = 0;
  meta.offset = offset;
  return meta;
}

}  // namespace streamml::testing
