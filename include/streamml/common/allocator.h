// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The process's allocator, and its settings for streaming through
// librdkafka: allocator_name(), tune_allocator().
#pragma once

#include <string>

namespace streamml {

// Sets glibc's malloc so that the large buffers librdkafka receives fetch
// responses into (a few MiB each) are reused instead of returned to the
// kernel and faulted in again: buffers up to 32 MiB come from the heap
// (M_MMAP_THRESHOLD), and up to 64 MiB of free heap is kept (M_TRIM_THRESHOLD).
// Process-wide, so the library never calls it on its own: the streamml CLI
// does at start, and programs that read Kafka fast should (docs/training.md,
// "Speed"). Leaves malloc alone when the environment already tunes it
// (GLIBC_TUNABLES naming glibc.malloc, MALLOC_MMAP_THRESHOLD_ or
// MALLOC_TRIM_THRESHOLD_), and when jemalloc serves malloc() (the streamml
// CLI links it; it needs neither setting). Returns whether it changed
// anything. Call it early, before other threads start; not thread-safe.
bool tune_allocator();

// The allocator that serves malloc() in this process: "jemalloc 5.3.0"
// when jemalloc replaced glibc's (linked, as the streamml CLI is, or
// LD_PRELOADed), otherwise "glibc 2.36".
std::string allocator_name();

}  // namespace streamml
