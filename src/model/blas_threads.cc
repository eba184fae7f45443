// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "model/blas_threads.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace streamml::model {

void limit_blas_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;  // the user's choice
    // Looked up, not linked: LibTorch links whichever libblas.so.3 the
    // system selects (OpenBLAS, the reference BLAS, ...); only OpenBLAS has
    // the call. Debian's single-threaded build (libopenblas0-serial) is not
    // safe when two threads call it at once: about 1% of concurrent sgemm
    // calls return wrong results (ConcurrentModels in
    // tests/unit/model/concurrent_predict_test.cc).
    // The threaded build is safe, and with one thread it runs every call on
    // the caller's thread as the serial one does.
    // RTLD_DEFAULT does not see a library loaded with RTLD_LOCAL (the
    // Python module and its LibTorch are): ask the loaded OpenBLAS first.
    using SetThreads = void (*)(int);
    void* openblas = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
    void* symbol = dlsym(openblas != nullptr ? openblas : RTLD_DEFAULT, "openblas_set_num_threads");
    if (symbol != nullptr) reinterpret_cast<SetThreads>(symbol)(1);
    if (openblas != nullptr) dlclose(openblas);  // NOLOAD took a reference
  });
}

}  // namespace streamml::model
