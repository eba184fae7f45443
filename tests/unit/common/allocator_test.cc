// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace streamml {
namespace {

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
  EXPECT_TRUE(tune_allocator());
}

}  // namespace
}  // namespace streamml
