// word_mutex: a lock for short critical sections on hot paths (the port's
// queue, the post-node pool). One atomic word: taken with one
// compare-exchange and released with one exchange when uncontended, where
// std::mutex costs a call into the C library (or winpthreads) each way.
// A thread that finds it taken spins briefly, then sleeps on the word
// (C++20 atomic wait), so a preempted holder does not make others burn CPU.
#pragma once

#include <atomic>

namespace proact::detail {

class word_mutex {
 public:
  void lock() noexcept {
    int expected = 0;
    if (!state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed))
      lock_contended();
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
  }

 private:
  void lock_contended() noexcept {
    // Held for a few dozen instructions at a time: a short spin usually wins.
    for (int i = 0; i < 64; ++i) {
      int expected = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return;
    }
    while (state_.exchange(2, std::memory_order_acquire) != 0)
      state_.wait(2, std::memory_order_relaxed);
  }

  std::atomic<int> state_{0};  // 0 free, 1 taken, 2 taken and a thread may sleep
};

}  // namespace proact::detail
