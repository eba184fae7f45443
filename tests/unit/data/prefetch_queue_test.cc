// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "data/prefetch_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace streamml::data {
namespace {

using std::chrono::milliseconds;

// Waits up to 5 s for `done`; true when it came.
template <typename F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(PrefetchQueue, HandsItemsOverInOrder) {
  PrefetchQueue<int> queue(3, milliseconds(10));
  queue.start([&] {
    for (int i = 0; i < 1000; ++i) {
      if (!queue.push(i)) return;
    }
    queue.push(-1);
  });
  std::vector<int> got;
  for (std::optional<int> item = queue.pop(); item && *item >= 0; item = queue.pop()) got.push_back(*item);
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[i], i);
}

TEST(PrefetchQueue, FullQueueBlocksTheProducerUntilHalfTaken) {
  PrefetchQueue<int> queue(4, milliseconds(10));
  std::atomic<int> pushed{0};
  queue.start([&] {
    for (int i = 0; i < 100; ++i) {
      if (!queue.push(i)) return;
      ++pushed;
    }
  });
  ASSERT_TRUE(eventually([&] { return pushed.load() == 4; }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(pushed.load(), 4) << "the producer ran past the capacity";
  EXPECT_EQ(queue.pop(), 0);  // 3 left: above the refill mark (2), still full for the producer
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(pushed.load(), 4) << "the producer woke before half the queue was taken";
  EXPECT_EQ(queue.pop(), 1);  // 2 left: refilled to 4
  ASSERT_TRUE(eventually([&] { return pushed.load() == 6; }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(pushed.load(), 6);
  for (int i = 2; i < 100; ++i) ASSERT_EQ(queue.pop(), i);
  queue.stop();
  EXPECT_FALSE(queue.running());
}

TEST(PrefetchQueue, ProducerExceptionReachesTheConsumerAfterItsItems) {
  PrefetchQueue<int> queue(8, milliseconds(10));
  queue.start([&] {
    queue.push(1);
    queue.push(2);
    throw std::runtime_error("broker gone");
  });
  EXPECT_EQ(queue.pop(), 1);
  EXPECT_EQ(queue.pop(), 2);
  try {
    queue.pop();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "broker gone");
  }
  EXPECT_FALSE(queue.running());
}

TEST(PrefetchQueue, StartAfterAnErrorBeginsAfresh) {
  PrefetchQueue<int> queue(8, milliseconds(10));
  queue.start([&] { throw std::runtime_error("first run"); });
  EXPECT_THROW(queue.pop(), std::runtime_error);
  queue.start([&] { queue.push(7); });
  EXPECT_EQ(queue.pop(), 7);
}

TEST(PrefetchQueue, InterruptUnblocksAWaitingConsumerAndStopsTheProducer) {
  PrefetchQueue<int> queue(4, milliseconds(10));
  std::atomic<bool> producer_returned{false};
  queue.start([&] {
    while (!queue.stopping()) std::this_thread::sleep_for(milliseconds(1));  // never pushes
    producer_returned = true;
  });
  std::thread interrupter([&] {
    std::this_thread::sleep_for(milliseconds(50));
    queue.interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(queue.pop(), std::nullopt);
  interrupter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(producer_returned.load());
  EXPECT_FALSE(queue.running());
  EXPECT_TRUE(queue.interrupted());
  EXPECT_EQ(queue.pop(), std::nullopt) << "an interrupt cannot be undone";
}

TEST(PrefetchQueue, WaitReadyReportsAnItemAnErrorOrAnInterruptWithoutTakingIt) {
  PrefetchQueue<int> queue(4, milliseconds(10));
  std::atomic<bool> go{false};
  queue.start([&] {
    while (!go.load() && !queue.stopping()) std::this_thread::sleep_for(milliseconds(1));
    queue.push(7);
    throw std::runtime_error("broken");
  });
  EXPECT_FALSE(queue.wait_ready(milliseconds(30))) << "nothing pushed yet";
  go = true;
  EXPECT_TRUE(queue.wait_ready(milliseconds(5000)));
  EXPECT_EQ(queue.pop(), 7) << "wait_ready() takes nothing";
  EXPECT_TRUE(queue.wait_ready(milliseconds(5000))) << "the producer's error is ready too";
  EXPECT_THROW(queue.pop(), std::runtime_error);

  PrefetchQueue<int> idle(4, milliseconds(10));
  idle.start([&] {
    while (!idle.stopping()) std::this_thread::sleep_for(milliseconds(1));
  });
  EXPECT_FALSE(idle.wait_ready(milliseconds(20)));
  idle.interrupt();
  EXPECT_TRUE(idle.wait_ready(milliseconds(5000)));
}

TEST(PrefetchQueue, InterruptWinsOverQueuedItems) {
  PrefetchQueue<int> queue(4, milliseconds(10));
  queue.start([&] {
    for (int i = 0;; ++i) {
      if (!queue.push(i)) return;
    }
  });
  EXPECT_EQ(queue.pop(), 0);
  queue.interrupt();
  EXPECT_EQ(queue.pop(), std::nullopt);
  EXPECT_FALSE(queue.running());
}

TEST(PrefetchQueue, StopUnblocksAProducerWaitingOnAFullQueue) {
  PrefetchQueue<int> queue(2, milliseconds(10));
  std::atomic<int> pushed{0};
  std::atomic<bool> refused{false};
  queue.start([&] {
    for (int i = 0;; ++i) {
      if (!queue.push(i)) {
        refused = true;
        return;
      }
      ++pushed;
    }
  });
  ASSERT_TRUE(eventually([&] { return pushed.load() == 2; }));
  queue.stop();  // joins: hangs here if push() stayed blocked
  EXPECT_TRUE(refused.load());
  EXPECT_FALSE(queue.running());
}

TEST(PrefetchQueue, DestructorStopsTheProducer) {
  std::atomic<bool> refused{false};
  {
    PrefetchQueue<int> queue(1, milliseconds(10));
    queue.start([&] {
      while (queue.push(0)) {
      }
      refused = true;
    });
  }
  EXPECT_TRUE(refused.load());
}

}  // namespace
}  // namespace streamml::data
