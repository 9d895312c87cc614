// task<T>: a lazily started coroutine that co_awaits proact operations.
//
//   proact::task<void> echo(proact::tcp_socket s) {
//     char buf[4096];
//     for (;;) {
//       auto [ec, n] = co_await s.recv(proact::buffer(buf, sizeof buf));
//       if (ec) co_return;
//       if (auto [wec, m] = co_await s.send(proact::const_buffer(buf, n)); wec) co_return;
//     }
//   }
//   lp.spawn(echo(std::move(socket)));          // runs it on the loop
//
// A task starts when awaited (co_await child() runs the child and resumes
// the parent when it ends; an exception in the child is rethrown there) or
// when spawned. A task carries the stop token it was spawned with; children
// inherit it and every operation it awaits is cancelled when stop is
// requested (errc::operation_aborted).
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "proact/detail/handler_awaitable.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/export.hpp"
#include "proact/loop.hpp"
#include "proact/timer.hpp"

namespace proact {

namespace detail {

// A spawned (root) task: the loop keeps the running ones in a list, so a loop
// destroyed with a coroutine still suspended (waiting on something that is
// not the loop's) destroys its frame rather than leaking it.
struct spawn_record {
  loop* owner = nullptr;
  std::coroutine_handle<> frame;
  spawn_record* prev = nullptr;
  spawn_record* next = nullptr;
};

class PROACT_API promise_base {
 public:
  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      promise_base& p = self.promise();
      if (p.continuation_) return p.continuation_;
      if (p.spawn_.owner != nullptr) finish_spawned(p.spawn_, p.exception_);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  std::stop_token get_stop_token() const noexcept { return stop_; }
  // The loop the task runs on (its operations' deadlines use its timers).
  loop* get_loop() const noexcept { return loop_; }

  void set_continuation(std::coroutine_handle<> c, std::stop_token stop, loop* owner) noexcept {
    continuation_ = c;
    stop_ = std::move(stop);
    loop_ = owner;
  }
  // The loop links this record while the task runs as a spawned root.
  spawn_record& spawn_state(std::stop_token stop, loop* owner) noexcept {
    stop_ = std::move(stop);
    loop_ = owner;
    return spawn_;
  }
  void rethrow_if_failed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  // Destroys the finished root frame (and its record); terminates on an
  // exception nobody could catch.
  static void finish_spawned(spawn_record& r, const std::exception_ptr& failure) noexcept;

  std::coroutine_handle<> continuation_;
  spawn_record spawn_;
  std::stop_token stop_;
  loop* loop_ = nullptr;
  std::exception_ptr exception_;
};

template <class T>
class task_promise final : public promise_base {
 public:
  task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
  T take() {
    rethrow_if_failed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class task_promise<void> final : public promise_base {
 public:
  task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take() const { rethrow_if_failed(); }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;

  task() noexcept = default;
  task(task&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (frame_) frame_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(frame_); }

  // co_await a task: runs it, resumes the awaiter with its result.
  struct awaiter {
    std::coroutine_handle<promise_type> child;
    bool await_ready() const noexcept { return !child; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> parent) noexcept {
      child.promise().set_continuation(parent, detail::stop_token_of(parent),
                                       detail::loop_of(parent));
      return child;
    }
    T await_resume() { return child.promise().take(); }
  };
  awaiter operator co_await() && noexcept { return awaiter{frame_}; }

 private:
  friend class detail::task_promise<T>;
  friend class loop;
  explicit task(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(frame_, nullptr); }

  std::coroutine_handle<promise_type> frame_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}

// The suspend/resume handshake and stop-token cancellation of io_awaitable,
// for awaitables whose "operation" is a loop packet (schedule, timers).
class loop_awaitable_base : public loop_node {
 public:
  bool await_ready() const noexcept { return false; }

 protected:
  loop_awaitable_base() noexcept : loop_node(&finish) {}
  ~loop_awaitable_base() = default;
  // Called by finish(); the handshake has been made.
  std::coroutine_handle<> waiter_;
  std::error_code result_;
  std::atomic<std::uint8_t> arrivals_{0};
  // After a successful start: resumes at once if the completion already came.
  bool arrive() noexcept { return arrivals_.fetch_add(1, std::memory_order_acq_rel) == 0; }

 private:
  static void finish(loop_node& self, std::size_t, std::error_code ec) {
    auto& me = static_cast<loop_awaitable_base&>(self);
    me.result_ = ec;
    if (me.arrivals_.fetch_add(1, std::memory_order_acq_rel) == 1) me.waiter_.resume();
  }
};
}  // namespace detail

// co_await lp.schedule(): continue on a loop thread. std::error_code is
// errc::port_closed (and the coroutine continues where it is) once stopped.
struct loop::schedule_awaitable final : detail::loop_awaitable_base {
  explicit schedule_awaitable(loop& l) noexcept : owner(&l) {}
  bool await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    if (const std::error_code ec = owner->post_node(*this)) {
      result_ = ec;
      return false;
    }
    return arrive();
  }
  std::error_code await_resume() const noexcept { return result_; }
  loop* owner;
};
inline loop::schedule_awaitable loop::schedule() noexcept {
  return schedule_awaitable(*this);
}

// co_await t.wait(d): the timer's outcome as {error, 0}, like an operation's.
struct timer::wait_awaitable final : detail::handler_awaitable<wait_awaitable, timer, io_result> {
  wait_awaitable(timer& t, timer::clock::duration d) noexcept : handler_awaitable(t), after(d) {}

  std::error_code start_call() {
    return owner_->start(after, [this](std::error_code ec) { arrive(io_result{ec, 0}); });
  }

  timer::clock::duration after;
};
inline timer::wait_awaitable timer::wait(clock::duration after) noexcept {
  return {*this, after};
}

namespace detail {
template <class T>
task<void> drop_value(task<T> t) {
  (void)co_await std::move(t);
}
}  // namespace detail

template <class T>
std::error_code loop::spawn(task<T> t, std::stop_token stop) {
  return spawn(detail::drop_value(std::move(t)), std::move(stop));
}

// A coroutine's own stop token: std::stop_token t = co_await proact::get_stop_token();
struct get_stop_token {
  std::stop_token token;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
    token = detail::stop_token_of(h);
    return false;
  }
  std::stop_token await_resume() noexcept { return std::move(token); }
};

// A coroutine's loop (null outside a loop): proact::loop* lp = co_await proact::get_loop();
struct get_loop {
  loop* owner = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
    owner = detail::loop_of(h);
    return false;
  }
  loop* await_resume() const noexcept { return owner; }
};

}  // namespace proact
