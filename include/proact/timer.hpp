// timer: one-shot and repeating timers whose expiries are completions on the
// loop's port, so they run under the same concurrency value as I/O.
//
//   proact::timer t(lp);
//   t.start(100ms, [](std::error_code ec) { ... });       // once
//   t.start_repeating(1s, [](std::error_code ec) { ... }); // every second
//   t.cancel();                                           // ec = operation_aborted
//   co_await t.wait(100ms);                               // in a coroutine
//
// Armed timers sit in one binary heap per loop (O(log n) to arm and cancel),
// watched by one timer thread that the loop starts on first use and that
// posts each expiry to the port. A timer has one pending wait at a time, like
// an operation: arming an armed timer gives errc::operation_in_progress.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <system_error>
#include <utility>

#include "proact/detail/handler_storage.hpp"
#include "proact/detail/loop_node.hpp"
#include "proact/error.hpp"
#include "proact/export.hpp"

namespace proact {

class loop;
class strand;

namespace detail {
class timer_service;
}

class PROACT_API timer final : public detail::loop_node {
 public:
  using clock = std::chrono::steady_clock;

  explicit timer(loop& l) noexcept : loop_node(&finish), loop_(l) {}
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  // An armed timer is disarmed without calling its handler. Destroying a
  // timer whose expiry is already queued (fired, handler not yet run) is not
  // allowed, as for any operation in flight; destroying it from inside its
  // own handler is, and so is destroying it anywhere once its last handler
  // call began (a one-shot's call, or a repeating timer's final
  // operation_aborted call).
  ~timer();

  // Calls handler(std::error_code) once, `after` from now: no error when it
  // expired, errc::operation_aborted when cancelled or the loop stopped.
  template <class F>
  std::error_code start(clock::duration after, F&& handler) {
    return start_at(clock::now() + after, clock::duration::zero(), std::forward<F>(handler));
  }
  template <class F>
  std::error_code start_at(clock::time_point deadline, F&& handler) {
    return start_at(deadline, clock::duration::zero(), std::forward<F>(handler));
  }
  // Calls handler every `interval` (measured from the first deadline, so it
  // does not drift) until cancelled; the last call has operation_aborted. The
  // next expiry is armed after the handler returns, so calls never overlap.
  template <class F>
  std::error_code start_repeating(clock::duration interval, F&& handler) {
    if (interval <= clock::duration::zero()) return make_error_code(error::invalid_argument);
    return start_at(clock::now() + interval, interval, std::forward<F>(handler));
  }

  // The pending wait completes with errc::operation_aborted; errc::not_found
  // if the timer is not armed (never started, or its expiry already queued).
  std::error_code cancel();
  // True from a successful start until the (last) handler call begins.
  // Runs the handler through `s` (nullptr: no strand); not while armed.
  void bind(strand* s) noexcept { strand_ = s; }
  bool armed() const noexcept { return pending_.load(std::memory_order_acquire); }
  loop& get_loop() const noexcept { return loop_; }

  // Awaitable: co_await t.wait(100ms) gives the std::error_code the handler
  // would get. Cancelled by the coroutine's stop token too.
  struct wait_awaitable;
  wait_awaitable wait(clock::duration after) noexcept;

 private:
  friend class detail::timer_service;
  friend struct wait_awaitable;

  template <class F>
  std::error_code start_at(clock::time_point deadline, clock::duration interval, F&& handler) {
    if (pending_.exchange(true, std::memory_order_acq_rel))
      return make_error_code(error::operation_in_progress);
    handler_.emplace(std::forward<F>(handler));
    return arm(deadline, interval);
  }
  // Puts the timer in the loop's heap; on failure it is not pending.
  std::error_code arm(clock::time_point deadline, clock::duration interval);
  static void finish(loop_node& self, std::size_t bytes, std::error_code ec);

  loop& loop_;
  detail::handler_storage<void(std::error_code), 48> handler_;
  clock::time_point deadline_{};
  clock::duration interval_{};
  // The fields below belong to the loop's timer service (under its lock).
  std::size_t heap_index_ = static_cast<std::size_t>(-1);  // heap position while armed
  bool handler_running_ = false;                           // a repeating timer's handler is running
  bool cancel_requested_ = false;                          // cancel() while that handler runs
  bool* destroyed_ = nullptr;                              // set by ~timer while its handler runs
  std::atomic<bool> pending_{false};
};

}  // namespace proact
