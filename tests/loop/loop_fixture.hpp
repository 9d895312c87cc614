// Helpers of the loop suite (tests/loop): loops on the backend under test and
// connected socket pairs on a loop. The loop cases live in the conformance
// executable (they share its backend selection and platform helpers); CTest
// runs them as loop.<backend>.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "../conformance/fixture.hpp"
#include "proact/proact.hpp"

namespace proact_test {

// A loop on the backend under test.
std::unique_ptr<proact::loop> make_loop(unsigned threads = 1, unsigned concurrency = 0);

// Two connected TCP sockets, both associated with `lp` (which must be running
// or be run by the helper: it runs lp.poll() itself while it waits).
::testing::AssertionResult connect_on_loop(proact::loop& lp, proact::tcp_socket& client,
                                           proact::tcp_socket& server);

// A one-shot flag a test waits on with a deadline.
class event {
 public:
  void set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds t = must_happen_within) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, t, [this] { return set_; });
  }
  bool is_set() {
    std::lock_guard lock(mutex_);
    return set_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

// Runs lp.poll() on this thread until `condition` holds or the deadline.
template <class Condition>
bool poll_until(proact::loop& lp, Condition condition,
                std::chrono::milliseconds t = must_happen_within) {
  const auto deadline = clock_type::now() + t;
  while (!condition()) {
    if (clock_type::now() >= deadline) return condition();
    if (lp.poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Destroys the loop when the scope ends, also when an assertion returns
// early: work still queued may refer to the test's locals, so the guard is
// declared after them and the loop drains before they go.
class loop_reset_guard {
 public:
  explicit loop_reset_guard(std::unique_ptr<proact::loop>& lp) noexcept : lp_(lp) {}
  loop_reset_guard(const loop_reset_guard&) = delete;
  loop_reset_guard& operator=(const loop_reset_guard&) = delete;
  ~loop_reset_guard() { lp_.reset(); }

 private:
  std::unique_ptr<proact::loop>& lp_;
};

class LoopTest : public BackendTest {};

}  // namespace proact_test
