// Starting tasks and waiting for them.
//
//   int v = proact::sync_wait(lp, compute());        // from ordinary code
//
//   auto h = proact::spawn(lp, compute());           // starts it now
//   int v = co_await h.join();                        // later, in a coroutine
//
//   proact::task_scope scope(lp);                    // a group of tasks
//   scope.spawn(session(std::move(s)));
//   co_await scope.join();                            // every one finished
//
// sync_wait runs the loop on the calling thread while it waits (it may also
// have worker threads); it returns the task's value or rethrows its
// exception. Not from a thread that is running the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <system_error>
#include <type_traits>
#include <utility>

#include "proact/loop.hpp"
#include "proact/task.hpp"
#include "proact/when.hpp"

namespace proact {

namespace detail {

// The outcome of a task run elsewhere, and who waits for it.
template <class T>
class task_outcome {
 public:
  void set_value(result_or_monostate<T>&& v) { value_.emplace(std::move(v)); }
  void set_failure(std::exception_ptr e) noexcept { failure_ = std::move(e); }
  // Marks it finished; resumes the coroutine that waits in join(), if one does.
  void finish() {
    std::coroutine_handle<> waiter;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      waiter = std::exchange(waiter_, nullptr);
      finished_.notify_all();
    }
    if (waiter) waiter.resume();
  }
  bool done() {
    std::lock_guard lock(mutex_);
    return done_;
  }
  // False if it finished already (the caller continues at once).
  bool wait_in(std::coroutine_handle<> waiter) {
    std::lock_guard lock(mutex_);
    if (done_) return false;
    waiter_ = waiter;
    return true;
  }
  void block_for(std::chrono::milliseconds t) {
    std::unique_lock lock(mutex_);
    finished_.wait_for(lock, t, [this] { return done_; });
  }
  T take() {
    if (failure_) std::rethrow_exception(failure_);
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }
  std::stop_source& stop() noexcept { return stop_; }

 private:
  std::mutex mutex_;
  std::condition_variable finished_;
  bool done_ = false;
  std::coroutine_handle<> waiter_;
  std::optional<result_or_monostate<T>> value_;
  std::exception_ptr failure_;
  std::stop_source stop_;
};

template <class T>
task<void> run_into(task<T> t, std::shared_ptr<task_outcome<T>> out) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      out->set_value({});
    } else {
      out->set_value(co_await std::move(t));
    }
  } catch (...) {
    out->set_failure(std::current_exception());
  }
  out->finish();
}

}  // namespace detail

// A task started with proact::spawn: join() awaits its end and gives its
// value (or rethrows); request_stop() cancels what it awaits. Dropping the
// handle lets the task run on (detached).
template <class T>
class spawned {
 public:
  spawned() noexcept = default;
  explicit spawned(std::shared_ptr<detail::task_outcome<T>> s) noexcept : state_(std::move(s)) {}

  bool valid() const noexcept { return state_ != nullptr; }
  bool done() const { return state_->done(); }
  void request_stop() noexcept { state_->stop().request_stop(); }

  struct join_awaiter {
    std::shared_ptr<detail::task_outcome<T>> state;
    bool await_ready() const { return state->done(); }
    bool await_suspend(std::coroutine_handle<> waiter) { return state->wait_in(waiter); }
    T await_resume() { return state->take(); }
  };
  // co_await h.join(): once, by one coroutine.
  join_awaiter join() const noexcept { return {state_}; }

 private:
  std::shared_ptr<detail::task_outcome<T>> state_;
};

// Starts t on lp now, with its own stop source (the handle's
// request_stop()). Throws std::system_error(port_closed) if the loop is
// stopped.
template <class T>
spawned<T> spawn(loop& lp, task<T> t) {
  auto state = std::make_shared<detail::task_outcome<T>>();
  if (std::error_code ec =
          lp.spawn(detail::run_into(std::move(t), state), state->stop().get_token()))
    throw std::system_error(ec, "proact::spawn");
  return spawned<T>(std::move(state));
}

// Runs t on lp and returns its value (or rethrows its exception). The calling
// thread runs the loop while it waits, so a loop without worker threads
// works too. Throws std::system_error(port_closed) if the loop is stopped.
template <class T>
T sync_wait(loop& lp, task<T> t) {
  auto state = std::make_shared<detail::task_outcome<T>>();
  if (std::error_code ec = lp.spawn(detail::run_into(std::move(t), state)))
    throw std::system_error(ec, "proact::sync_wait");
  // Runs what is ready here; when nothing is, waits a little for the task to
  // finish elsewhere (the loop's workers) before polling again.
  while (!state->done()) {
    if (lp.poll_one() == 0) state->block_for(std::chrono::milliseconds(1));
  }
  return state->take();
}

// A group of tasks: spawn() starts one on the scope's loop, join() waits for
// every task started in the scope, request_stop() reaches all of them. An
// exception escaping a task is kept and rethrown by join() (the first one).
// The destructor requests stop and blocks until every task finished: join
// first, and never destroy a scope on the loop's only thread with tasks left
// (on one of several, the others finish them: it counts as blocked there).
class task_scope {
 public:
  explicit task_scope(loop& lp) noexcept : loop_(lp) {}
  task_scope(const task_scope&) = delete;
  task_scope& operator=(const task_scope&) = delete;
  ~task_scope() {
    stop_.request_stop();
    // On a loop thread: the loop's other threads run the tasks meanwhile.
    const blocking_scope blocked;
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [this] { return running_ == 0; });
  }

  template <class T>
  [[nodiscard]] std::error_code spawn(task<T> t) {
    {
      std::lock_guard lock(mutex_);
      ++running_;
    }
    std::error_code ec = loop_.spawn(run(std::move(t)), stop_.get_token());
    if (ec) finish_one({});
    return ec;
  }
  void request_stop() noexcept { stop_.request_stop(); }
  std::size_t running() {
    std::lock_guard lock(mutex_);
    return running_;
  }

  struct join_awaiter {
    task_scope* scope;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> waiter) {
      std::lock_guard lock(scope->mutex_);
      if (scope->running_ == 0) return false;
      scope->joiner_ = waiter;
      return true;
    }
    void await_resume() const {
      if (scope->failure_) std::rethrow_exception(std::exchange(scope->failure_, nullptr));
    }
  };
  // co_await scope.join(): once every task started so far (and those they
  // start in the scope meanwhile) finished.
  join_awaiter join() noexcept { return {this}; }

 private:
  template <class T>
  task<void> run(task<T> t) {
    std::exception_ptr failure;
    try {
      co_await std::move(t);
    } catch (...) {
      failure = std::current_exception();
    }
    finish_one(std::move(failure));
  }
  void finish_one(std::exception_ptr failure) {
    std::coroutine_handle<> joiner;
    {
      std::lock_guard lock(mutex_);
      if (failure && !failure_) failure_ = std::move(failure);
      if (--running_ == 0) {
        joiner = std::exchange(joiner_, nullptr);
        all_done_.notify_all();
      }
    }
    // After the unlock this task touches the scope no more: the joiner may
    // destroy it.
    if (joiner) joiner.resume();
  }

  loop& loop_;
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable all_done_;
  std::size_t running_ = 0;
  std::coroutine_handle<> joiner_;
  std::exception_ptr failure_;
};

}  // namespace proact
