// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The system BLAS that LibTorch calls for every Linear layer.
#pragma once

namespace streamml::model {

// Once per process: when the BLAS is OpenBLAS, makes each call run on the
// calling thread (openblas_set_num_threads(1)), as serve and the trainers
// expect, unless OPENBLAS_NUM_THREADS is set. Thread-safe; cheap after the
// first call. Why the threaded OpenBLAS build is the one to install:
// scripts/deps.sh and docs/serving.md ("The BLAS").
void limit_blas_threads();

}  // namespace streamml::model
