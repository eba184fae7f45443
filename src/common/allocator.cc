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

#include <dlfcn.h>
#include <gnu/libc-version.h>
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

// jemalloc's mallctl() when jemalloc is loaded and its malloc() is the one
// the process calls (not merely loaded by some library), else nullptr.
using MallctlFunction = int (*)(const char*, void*, size_t*, void*, size_t);
MallctlFunction jemalloc_mallctl() {
  void* jemalloc = dlopen("libjemalloc.so.2", RTLD_LAZY | RTLD_NOLOAD);
  if (jemalloc == nullptr) return nullptr;
  void* mallctl = dlsym(jemalloc, "mallctl");
  const bool serves_malloc = dlsym(jemalloc, "malloc") == dlsym(RTLD_DEFAULT, "malloc");
  dlclose(jemalloc);  // NOLOAD took a reference; the library stays loaded
  return serves_malloc ? reinterpret_cast<MallctlFunction>(mallctl) : nullptr;
}

}  // namespace

bool tune_allocator() {
  if (environment_tunes_malloc() || jemalloc_mallctl() != nullptr) return false;
  // mallopt returns 1 on success; setting either threshold also turns off
  // glibc's dynamic adjustment of both.
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
}

std::string allocator_name() {
  if (MallctlFunction mallctl = jemalloc_mallctl()) {
    const char* version = nullptr;
    size_t size = sizeof(version);
    if (mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
      const std::string full = version;  // "5.3.0-0-g<commit>"
      return "jemalloc " + full.substr(0, full.find('-'));
    }
    return "jemalloc";
  }
  return std::string("glibc ") + gnu_get_libc_version();
}

}  // namespace streamml
