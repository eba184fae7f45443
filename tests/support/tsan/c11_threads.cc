// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// TSan builds only (STREAMML_TSAN): C11 threads for librdkafka, over pthreads.
//
// Debian's librdkafka uses glibc's C11 threads (thrd_create, mtx_lock,
// cnd_wait, ...). glibc implements them by calling its pthread functions
// internally, past TSan's interceptors, and GCC 12's TSan runtime does not
// intercept the C11 functions themselves: librdkafka's threads were unknown to
// TSan (the first allocation in one crashed the runtime) and its locks
// invisible. These definitions in the test executable take precedence over
// glibc's for librdkafka and forward to the pthread functions (as glibc does;
// the C11 types are the pthread types there), which TSan intercepts.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include <cstdint>

namespace {

int to_thrd(int rc) {
  switch (rc) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

struct Start {
  thrd_start_t func;
  void* arg;
};

void* run(void* p) {
  const Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.func(start.arg)));
}

pthread_mutex_t* m(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* c(cnd_t* cond) { return reinterpret_cast<pthread_cond_t*>(cond); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  auto* start = new Start{func, arg};
  const int rc = pthread_create(thr, nullptr, run, start);
  if (rc != 0) delete start;
  return to_thrd(rc);
}

int thrd_join(thrd_t thr, int* res) {
  void* result = nullptr;
  const int rc = pthread_join(thr, &result);
  if (rc == 0 && res != nullptr) *res = static_cast<int>(reinterpret_cast<intptr_t>(result));
  return to_thrd(rc);
}

int thrd_detach(thrd_t thr) { return to_thrd(pthread_detach(thr)); }

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int rc = pthread_mutex_init(m(mutex), &attr);
  pthread_mutexattr_destroy(&attr);
  return to_thrd(rc);
}

int mtx_lock(mtx_t* mutex) { return to_thrd(pthread_mutex_lock(m(mutex))); }
int mtx_trylock(mtx_t* mutex) { return to_thrd(pthread_mutex_trylock(m(mutex))); }
int mtx_unlock(mtx_t* mutex) { return to_thrd(pthread_mutex_unlock(m(mutex))); }
void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(m(mutex)); }

int cnd_init(cnd_t* cond) { return to_thrd(pthread_cond_init(c(cond), nullptr)); }
int cnd_signal(cnd_t* cond) { return to_thrd(pthread_cond_signal(c(cond))); }
int cnd_broadcast(cnd_t* cond) { return to_thrd(pthread_cond_broadcast(c(cond))); }
int cnd_wait(cnd_t* cond, mtx_t* mutex) { return to_thrd(pthread_cond_wait(c(cond), m(mutex))); }
int cnd_timedwait(cnd_t* cond, mtx_t* mutex, const struct timespec* until) {
  return to_thrd(pthread_cond_timedwait(c(cond), m(mutex), until));
}
void cnd_destroy(cnd_t* cond) { pthread_cond_destroy(c(cond)); }

void call_once(once_flag* flag, void (*func)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), func);
}

}  // extern "C"
