// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// PrefetchQueue<T>: a bounded queue between a producer thread, which the
// queue owns, and one consumer thread. The producer runs ahead by at most
// `capacity` items; a full queue lets it go on only once the consumer has
// taken it down to capacity / 2, so that it wakes once per capacity / 2
// items instead of once per item (each wake-up may preempt the consumer's
// thread on a busy machine).
//
// An exception that escapes the producer reaches the consumer: pop() rethrows
// it once the items pushed before it were taken. interrupt() makes pop()
// return nullopt from any thread or a signal handler.
//
// Thread-safety: start(), stop(), running() and pop() are for the consumer
// thread; push() and stopping() for the producer; interrupt() and
// interrupted() for any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace streamml::data {

template <typename T>
class PrefetchQueue {
 public:
  // Runs on the queue's thread: hands items over with push() and returns
  // when it has no more, or when push() returned false or stopping() is true.
  using Producer = std::function<void()>;

  // Holds at most `capacity` (>= 1) items. interrupt() cannot notify (a
  // signal handler must not lock), so pop() looks at the flag every
  // `interrupt_check`.
  PrefetchQueue(size_t capacity, std::chrono::milliseconds interrupt_check)
      : capacity_(capacity), interrupt_check_(interrupt_check) {}
  ~PrefetchQueue() { stop(); }
  PrefetchQueue(const PrefetchQueue&) = delete;
  PrefetchQueue& operator=(const PrefetchQueue&) = delete;

  // Consumer: drops the items and the error of a previous run and starts
  // `produce` on a new thread. The queue must not be running.
  void start(Producer produce) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = false;
      error_ = nullptr;
      queue_.clear();
    }
    running_ = true;
    thread_ = std::thread([this, produce = std::move(produce)] {
      try {
        produce();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = std::current_exception();
        not_empty_.notify_all();
      }
    });
  }

  // Consumer: asks the producer to stop, wakes it if push() blocks, and joins
  // it. Items not taken stay until the next start(). Idempotent.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      not_full_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    running_ = false;
  }

  // Consumer: start() was called and the producer was not stopped since.
  bool running() const { return running_; }

  // Producer: queues `item`, blocking while the queue is full (until it is
  // down to refill_at()). Returns false, dropping `item`, when asked to stop.
  bool push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.size() >= capacity_) {
      not_full_.wait(lock, [&] { return stop_ || queue_.size() <= refill_at(); });
    }
    if (stop_) return false;
    queue_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Producer: stop() was called; return soon.
  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  // Consumer: the next item, waiting for it. Once interrupted, stops the
  // producer and returns nullopt. When the producer failed and every item it
  // pushed before was taken, stops it and rethrows its exception.
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!not_empty_.wait_for(lock, interrupt_check_,
                                [&] { return !queue_.empty() || error_ || interrupted_.load(); })) {
    }
    if (interrupted_.load()) {
      lock.unlock();
      stop();
      return std::nullopt;
    }
    if (queue_.empty()) {  // so error_ is set
      std::exception_ptr error = error_;
      lock.unlock();
      stop();
      std::rethrow_exception(error);
    }
    std::optional<T> item(std::move(queue_.front()));
    queue_.pop_front();
    if (queue_.size() <= refill_at()) not_full_.notify_one();
    return item;
  }

  // Consumer: waits up to `timeout` until pop() would return at once (an
  // item, an error, or an interrupt); true when it would.
  bool wait_ready(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return not_empty_.wait_for(lock, timeout,
                               [&] { return !queue_.empty() || error_ || interrupted_.load(); });
  }

  // Any thread, also a signal handler (it only sets an atomic flag): pop()
  // returns nullopt from now on. It cannot be undone.
  void interrupt() { interrupted_.store(true); }
  bool interrupted() const { return interrupted_.load(); }

 private:
  // Queue length at which a full queue is refilled.
  size_t refill_at() const { return capacity_ / 2; }

  const size_t capacity_;
  const std::chrono::milliseconds interrupt_check_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> queue_;        // guarded by mu_
  std::exception_ptr error_;   // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread thread_;
  bool running_ = false;       // consumer thread only
  std::atomic<bool> interrupted_{false};
};

}  // namespace streamml::data
