// io_awaitable: the awaitable form of an operation, returned by the
// operation-less overloads of the handles' start calls:
//
//   auto [ec, n] = co_await socket.recv(buffer);
//
// The awaitable is itself the operation (it lives in the coroutine frame while
// suspended), so awaiting allocates nothing. If the awaiting coroutine has a
// stop token (proact::task under loop::spawn), a stop request cancels the
// pending operation, which then completes with errc::operation_aborted.
//
// A deadline cancels it too, but completes it with errc::timed_out:
//
//   auto [ec, n] = co_await socket.recv(buffer).with_timeout(30s);
//
// The deadline is an entry of the loop's timer heap inside the awaitable, so
// it allocates nothing either.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <system_error>
#include <utility>

#include "proact/buffer.hpp"
#include "proact/detail/loop_node.hpp"
#include "proact/detail/op_deadline.hpp"
#include "proact/export.hpp"

namespace proact {

class handle;
class loop;

// What an awaited operation gives back: auto [ec, bytes] = co_await ...;
struct io_result {
  std::error_code error;
  std::size_t bytes = 0;
};

// What an awaited pooled recv gives back: auto [ec, bytes, buf] = co_await ...;
// `buf` is the caller's until the pool's release(buf.id) (none if no buffer).
struct pooled_recv_result {
  std::error_code error;
  std::size_t bytes = 0;
  pooled_buffer buffer;
};

namespace detail {

// Promise types that carry a stop token expose it this way.
template <class Promise>
concept has_stop_token = requires(Promise& p) {
  { p.get_stop_token() } -> std::convertible_to<std::stop_token>;
};

template <class Promise>
std::stop_token stop_token_of(std::coroutine_handle<Promise> h) noexcept {
  if constexpr (has_stop_token<Promise>) {
    return h.promise().get_stop_token();
  } else {
    return {};
  }
}

// Promise types that know the loop they run on (proact::task) expose it.
template <class Promise>
concept has_loop = requires(Promise& p) {
  { p.get_loop() } -> std::convertible_to<loop*>;
};

template <class Promise>
loop* loop_of(std::coroutine_handle<Promise> h) noexcept {
  if constexpr (has_loop<Promise>) {
    return h.promise().get_loop();
  } else {
    return nullptr;
  }
}

// The part of every operation awaitable that does not depend on the
// operation: the suspend/complete handshake and stop-token cancellation.
// What the operation runs on (a handle, or a stream layered over one) is
// `target`, cancelled through `cancel`.
class PROACT_API io_awaitable_base : public loop_node {
 public:
  using start_fn = std::error_code (*)(io_awaitable_base& self);
  using cancel_fn = op_deadline::cancel_fn;

  bool await_ready() const noexcept { return false; }
  io_result await_resume() const noexcept { return result_; }

  io_awaitable_base(const io_awaitable_base&) = delete;
  io_awaitable_base& operator=(const io_awaitable_base&) = delete;
  io_awaitable_base& operator=(io_awaitable_base&&) = delete;

 protected:
  // An operation on a handle, which must be associated with a loop.
  io_awaitable_base(handle& h, start_fn start) noexcept;
  io_awaitable_base(void* target, cancel_fn cancel, start_fn start) noexcept
      : loop_node(&finish), target_(target), cancel_(cancel), start_(start) {}
  // Only before it is awaited (with_timeout returns a moved copy).
  io_awaitable_base(io_awaitable_base&& other) noexcept
      : loop_node(&finish),
        handle_(other.handle_),
        target_(other.target_),
        cancel_(other.cancel_),
        start_(other.start_),
        has_deadline_(other.has_deadline_),
        deadline_at_(other.deadline_at_) {}
  ~io_awaitable_base() = default;

  // Starts the operation; false means "do not suspend" (it failed to start,
  // or finished before this call returned) with the result in result_.
  // `owner` is the loop the coroutine runs on (for a deadline).
  bool suspend(std::coroutine_handle<> waiter, std::stop_token stop, loop* owner);

  void set_deadline(std::chrono::steady_clock::time_point at) noexcept {
    deadline_at_ = at;
    has_deadline_ = true;
  }

 private:
  struct canceller {
    io_awaitable_base* self;
    void operator()() const noexcept;
  };
  static void finish(loop_node& self, std::size_t bytes, std::error_code ec);
  static std::error_code start_for_deadline(void* self);
  // The result is final: the deadline is disarmed, the stop callback gone.
  void conclude() noexcept;

  handle* handle_ = nullptr;  // set when the target is a handle
  void* target_;
  cancel_fn cancel_;
  start_fn start_;
  std::coroutine_handle<> waiter_;
  io_result result_;
  // suspend() and the completion each arrive once; the second one resumes.
  std::atomic<std::uint8_t> arrivals_{0};
  std::optional<std::stop_callback<canceller>> on_stop_;
  // True while canceller runs. Before the coroutine resumes, the stop
  // callback is removed after it finished: ~stop_callback would otherwise
  // block until the other thread's call returns, and that wait can hang
  // with MinGW-w64's libstdc++ (its semaphore misses the wake-up).
  std::atomic<bool> cancelling_{false};
  void settle() noexcept;
  bool has_deadline_ = false;
  std::chrono::steady_clock::time_point deadline_at_{};
  op_deadline deadline_;
};

// Start is a callable std::error_code(loop_node&) (or (operation&)) that
// starts the operation.
template <class Start>
class io_awaitable : public io_awaitable_base {
 public:
  io_awaitable(handle& h, Start start) noexcept
      : io_awaitable_base(h, &start_thunk), start_op_(std::move(start)) {}
  io_awaitable(void* target, cancel_fn cancel, Start start) noexcept
      : io_awaitable_base(target, cancel, &start_thunk), start_op_(std::move(start)) {}

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    return suspend(waiter, stop_token_of(waiter), loop_of(waiter));
  }

  // Cancels the operation if it has not completed `after` from now (or at
  // `at`); it then completes with errc::timed_out. Needs a coroutine that
  // runs on a loop (proact::task); elsewhere the await fails with
  // errc::not_associated.
  [[nodiscard]] io_awaitable with_timeout(std::chrono::steady_clock::duration after) && noexcept {
    set_deadline(std::chrono::steady_clock::now() + after);
    return std::move(*this);
  }
  [[nodiscard]] io_awaitable with_deadline(std::chrono::steady_clock::time_point at) && noexcept {
    set_deadline(at);
    return std::move(*this);
  }
  io_awaitable(io_awaitable&& other) noexcept
      : io_awaitable_base(std::move(other)), start_op_(std::move(other.start_op_)) {}
  io_awaitable& operator=(io_awaitable&&) = delete;
  ~io_awaitable() = default;

 private:
  static std::error_code start_thunk(io_awaitable_base& self) {
    auto& me = static_cast<io_awaitable&>(self);
    return me.start_op_(static_cast<loop_node&>(me));
  }
  Start start_op_;
};

// A pooled recv's awaitable: its result names the buffer it took.
template <class Start>
class pooled_recv_awaitable final : public io_awaitable<Start> {
 public:
  pooled_recv_awaitable(handle& h, Start start) noexcept
      : io_awaitable<Start>(h, std::move(start)) {}
  pooled_recv_awaitable(pooled_recv_awaitable&& other) noexcept = default;
  pooled_recv_awaitable& operator=(pooled_recv_awaitable&&) = delete;
  ~pooled_recv_awaitable() = default;

  proact::pooled_recv_result await_resume() const noexcept {
    const io_result r = io_awaitable_base::await_resume();
    return proact::pooled_recv_result{r.error, r.bytes, this->pooled()};
  }
  [[nodiscard]] pooled_recv_awaitable with_timeout(
      std::chrono::steady_clock::duration after) && noexcept {
    this->set_deadline(std::chrono::steady_clock::now() + after);
    return std::move(*this);
  }
  [[nodiscard]] pooled_recv_awaitable with_deadline(
      std::chrono::steady_clock::time_point at) && noexcept {
    this->set_deadline(at);
    return std::move(*this);
  }
};

}  // namespace detail
}  // namespace proact
