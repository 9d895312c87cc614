// The awaitable form of a call that takes a handler (timer::wait,
// resolver::resolve, signal_set::wait), written once: the call is started in
// await_suspend with a handler that hands its result to arrive(), the
// coroutine's stop token cancels it through the owner's cancel(), and a
// two-party handshake (the handler, and await_suspend's end) decides who
// resumes the coroutine, so a handler that runs before await_suspend is done
// never resumes a frame that is still suspending.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <utility>

#include "proact/detail/io_awaitable.hpp"
#include "proact/error.hpp"

namespace proact::detail {

// Derived::start_call() starts the call (its handler calls arrive()) and
// returns its start error; Result has an `error` member.
template <class Derived, class Owner, class Result>
class handler_awaitable {
 public:
  handler_awaitable(const handler_awaitable&) = delete;
  handler_awaitable& operator=(const handler_awaitable&) = delete;

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    waiter_ = waiter;
    std::stop_token stop = stop_token_of(waiter);
    if (stop.stop_requested()) {
      result_.error = make_error_code(error::operation_aborted);
      return false;
    }
    if (const std::error_code start_error = static_cast<Derived*>(this)->start_call()) {
      result_.error = start_error;
      return false;
    }
    // Registered once the call is started: a stop request from here on
    // cancels it (harmless once it completed). The handshake keeps the frame
    // alive until this function is done with it.
    if (stop.stop_possible()) on_stop_.emplace(std::move(stop), canceller{this});
    if (arrivals_.fetch_add(1, std::memory_order_acq_rel) == 0) return true;
    settle();
    return false;
  }
  Result await_resume() noexcept { return std::move(result_); }

 protected:
  explicit handler_awaitable(Owner& owner) noexcept : owner_(&owner) {}
  ~handler_awaitable() = default;

  // The handler's part: the call's outcome.
  void arrive(Result r) noexcept {
    result_ = std::move(r);
    if (arrivals_.fetch_add(1, std::memory_order_acq_rel) == 1) {
      settle();
      waiter_.resume();
    }
  }

  Owner* owner_;

 private:
  struct canceller {
    handler_awaitable* self;
    void operator()() const noexcept {
      self->cancelling_.store(true, std::memory_order_release);
      (void)self->owner_->cancel();
      self->cancelling_.store(false, std::memory_order_release);
    }
  };
  // Before the frame resumes: a cancel running on another thread (from a
  // stop request) is done with it, and the stop callback is gone.
  void settle() noexcept {
    while (cancelling_.load(std::memory_order_acquire)) std::this_thread::yield();
    on_stop_.reset();
  }

  std::coroutine_handle<> waiter_;
  Result result_{};
  std::atomic<std::uint8_t> arrivals_{0};
  std::optional<std::stop_callback<canceller>> on_stop_;
  std::atomic<bool> cancelling_{false};  // see io_awaitable_base::cancelling_
};

}  // namespace proact::detail
