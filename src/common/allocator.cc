// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Why: a consumer's broker thread receives each fetch response into one
// buffer of its size. glibc serves such sizes with mmap() until a freed one
// raises its dynamic threshold, and trims the heap top above twice that, so
// a reader that holds fetched records a while (a KafkaDataset reading ranges
// ahead) keeps growing and shrinking the heap: every page comes back through
// a page fault, on the broker thread, which is the one thread every record
// passes through. On the 2-core VMs here (where a fault is expensive) the
// data_ingest benchmark's process took ~106k minor faults per 1M records read
// by a KafkaDataset and ~63k by a raw loop; with these settings ~30k and
// ~20k, and both read faster (BENCHMARKS.md, issue 14).
#include "streamml/common/allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace streamml {
namespace {

constexpr int kMmapThreshold = 32 << 20;
constexpr int kTrimThreshold = 64 << 20;

bool environment_tunes_malloc() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) ||
         std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr;
}

}  // namespace

bool tune_allocator() {
  if (environment_tunes_malloc()) return false;
  // mallopt returns 1 on success; setting either threshold also turns off
  // glibc's dynamic adjustment of both.
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
}

}  // namespace streamml
