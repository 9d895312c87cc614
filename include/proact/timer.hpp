// timer: one-shot and repeating timers whose handlers run on the loop's
// threads, like the completions of its port.
//
//   proact::timer t(lp);
//   t.start(100ms, [](std::error_code ec) { ... });       // once
//   t.start_repeating(1s, [](std::error_code ec) { ... }); // every second
//   t.cancel();                                           // ec = operation_aborted
//   auto [ec, n] = co_await t.wait(100ms);                // in a coroutine
//
// Armed timers sit in one binary heap per loop (O(log n) to arm and cancel),
// expired by the loop's own threads in their wait on the port: a loop that
// one thread runs calls the handler on that thread, with no packet; one that
// several threads run (or a timer bound to a strand) posts each expiry to the
// port, so it runs under the port's concurrency value like I/O. A timer has
// one pending wait at a time, like an operation: arming an armed timer gives
// errc::operation_in_progress.
//
// A timer may be destroyed at any moment before its loop: armed, with its
// expiry or cancellation queued, inside its handler or outside it. Its
// handler is never called once the destructor began; a destructor on another
// thread than a running call of the handler waits for that call to return
// (so a handler must not wait for a thread that destroys its timer).
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <system_error>
#include <utility>

#include "proact/detail/handler_storage.hpp"
#include "proact/detail/timer_entry.hpp"
#include "proact/error.hpp"
#include "proact/export.hpp"

namespace proact {

class loop;
class strand;

namespace detail {
class timer_service;
class timer_packet;
struct timer_call;
}  // namespace detail

class PROACT_API timer final : public detail::timer_entry {
 public:
  using clock = std::chrono::steady_clock;

  explicit timer(loop& l) noexcept : timer_entry(&expire), loop_(l) {}
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  // Disarms the timer and drops a queued expiry or cancellation: the handler
  // is not called again. Allowed at any moment, also from inside the handler.
  ~timer();

  // Calls handler(std::error_code) once, `after` from now: no error when it
  // expired, errc::operation_aborted when cancelled or the loop stopped.
  template <class F>
  [[nodiscard]] std::error_code start(clock::duration after, F&& handler) {
    return start_at(clock::now() + after, clock::duration::zero(), std::forward<F>(handler));
  }
  template <class F>
  [[nodiscard]] std::error_code start_at(clock::time_point deadline, F&& handler) {
    return start_at(deadline, clock::duration::zero(), std::forward<F>(handler));
  }
  // Calls handler every `interval` (measured from the first deadline, so it
  // does not drift) until cancelled; the last call has operation_aborted. The
  // next expiry is armed after the handler returns, so calls never overlap.
  template <class F>
  [[nodiscard]] std::error_code start_repeating(clock::duration interval, F&& handler) {
    if (interval <= clock::duration::zero()) return make_error_code(error::invalid_argument);
    return start_at(clock::now() + interval, interval, std::forward<F>(handler));
  }

  // The pending wait completes with errc::operation_aborted; errc::not_found
  // if the timer is not armed (never started, or a one-shot's expiry already
  // queued). A repeating timer whose expiry is queued or whose handler runs
  // stops after that call (then one more call, with operation_aborted).
  [[nodiscard]] std::error_code cancel();
  // Runs the handler through `s` (nullptr: no strand); not while armed.
  void bind(strand* s) noexcept { strand_ = s; }
  // True from a successful start until the (last) handler call begins.
  bool armed() const noexcept { return pending_.load(std::memory_order_acquire); }
  loop& get_loop() const noexcept { return loop_; }

  // Awaitable: auto [ec, n] = co_await t.wait(100ms) gives the error the
  // handler would get (n is always 0), the same shape as an awaited
  // operation. Cancelled by the coroutine's stop token too.
  struct wait_awaitable;
  wait_awaitable wait(clock::duration after) noexcept;

 private:
  friend class detail::timer_service;
  friend struct wait_awaitable;

  template <class F>
  [[nodiscard]] std::error_code start_at(clock::time_point deadline, clock::duration interval,
                                         F&& handler) {
    if (pending_.exchange(true, std::memory_order_acq_rel))
      return make_error_code(error::operation_in_progress);
    handler_.emplace(std::forward<F>(handler));
    return arm(deadline, interval);
  }
  // Puts the timer in the loop's heap; on failure it is not pending.
  [[nodiscard]] std::error_code arm(clock::time_point deadline, clock::duration interval);
  static void expire(timer_entry& self);

  loop& loop_;
  strand* strand_ = nullptr;
  detail::handler_storage<void(std::error_code), 48> handler_;
  clock::duration interval_{};
  // The fields below belong to the loop's timer service (under its lock).
  detail::timer_packet* packet_ = nullptr;  // carries its expiry or cancellation
  std::size_t ready_index_ = 0;             // its place in the ready list while listed
  bool packet_queued_ = false;              // packet_ is in the port's queue
  bool reserved_ = false;                   // a packet is set aside for it (packet_ is null)
  bool listed_ = false;                     // expired, in the ready list
  detail::timer_call* calls_ = nullptr;     // handler calls running now
  bool cancel_requested_ = false;           // cancel() while a repeating call runs
  bool destroying_ = false;                 // ~timer began: never arm again
  std::atomic<bool> pending_{false};
};

}  // namespace proact
