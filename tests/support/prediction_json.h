// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// same_prediction(): compares two prediction lines (model::format_json or
// format_csv) up to float rounding. A model's output for one row can differ
// in the last bits with the batch it was computed in: BLAS picks kernels by
// matrix shape (OpenBLAS has a small-matrix path on AVX-512 CPUs, whose sums
// run in another order), and serve batches records as they arrive, so a
// served row and the same row predicted alone need not match bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace streamml::testing {

// The same text once the numbers are taken out, and each pair of numbers
// within `tolerance` (relative to max(1, |expected|)).
inline ::testing::AssertionResult same_prediction(const std::string& actual, const std::string& expected,
                                                  double tolerance = 1e-6) {
  auto number_starts = [](const std::string& s, size_t i) {
    return i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-');
  };
  size_t a = 0, e = 0;
  while (a < actual.size() && e < expected.size()) {
    if (number_starts(actual, a) && number_starts(expected, e)) {
      char* a_end = nullptr;
      char* e_end = nullptr;
      const double x = std::strtod(actual.c_str() + a, &a_end);
      const double y = std::strtod(expected.c_str() + e, &e_end);
      if (std::abs(x - y) > tolerance * std::max(1.0, std::abs(y))) {
        return ::testing::AssertionFailure() << actual << "\n  differs from\n" << expected << "\n  at " << x
                                             << " against " << y;
      }
      a = static_cast<size_t>(a_end - actual.c_str());
      e = static_cast<size_t>(e_end - expected.c_str());
    } else if (actual[a] == expected[e]) {
      ++a;
      ++e;
    } else {
      return ::testing::AssertionFailure() << actual << "\n  differs from\n" << expected;
    }
  }
  if (a != actual.size() || e != expected.size()) {
    return ::testing::AssertionFailure() << actual << "\n  differs from\n" << expected;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace streamml::testing
