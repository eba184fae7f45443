// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace streamml {
namespace {

// ASan replaces malloc with its own allocator, whose mallopt() refuses
// every setting, so tune_allocator() rightly reports no change. (TSan
// passes mallopt() through to glibc.)
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsanAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsanAllocator = true;
#else
constexpr bool kAsanAllocator = false;
#endif
#else
constexpr bool kAsanAllocator = false;
#endif

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(TuneAllocator, LeavesMallocAloneWhenTheEnvironmentTunesIt) {
  ScopedEnv no_mmap("MALLOC_MMAP_THRESHOLD_", nullptr);
  {
    ScopedEnv tunables("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000");
    ScopedEnv trim("MALLOC_TRIM_THRESHOLD_", nullptr);
    EXPECT_FALSE(tune_allocator());
  }
  {
    ScopedEnv tunables("GLIBC_TUNABLES", nullptr);
    ScopedEnv trim("MALLOC_TRIM_THRESHOLD_", "1000000");
    EXPECT_FALSE(tune_allocator());
  }
}

TEST(TuneAllocator, SetsTheThresholdsOtherwise) {
  ScopedEnv tunables("GLIBC_TUNABLES", "glibc.pthread.rseq=0");  // tunes something else
  ScopedEnv mmap("MALLOC_MMAP_THRESHOLD_", nullptr);
  ScopedEnv trim("MALLOC_TRIM_THRESHOLD_", nullptr);
  if (kAsanAllocator) {
    EXPECT_FALSE(tune_allocator()) << "ASan's mallopt() accepted a setting";
    return;
  }
  EXPECT_TRUE(tune_allocator());
}

TEST(AllocatorName, NamesGlibcWhenNothingReplacedIt) {
  // The unit tests do not link jemalloc (only the CLI and serve's benchmark do).
  const std::string name = allocator_name();
  EXPECT_EQ(name.rfind("glibc 2.", 0), 0u) << name;
}

}  // namespace
}  // namespace streamml
