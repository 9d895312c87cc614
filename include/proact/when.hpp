// when_all and when_any: run several tasks (or awaitables) at once inside a
// coroutine and continue when they are done.
//
//   auto [a, b] = co_await proact::when_all(copy(in, out), copy(out, in));
//   auto r = co_await proact::when_any(s.recv(buf), t.wait(5s));
//   if (r.index == 0) ... std::get<0>(r.value) ...
//
// Children start one after the other on the awaiting thread (each runs until
// its first suspension) and then run concurrently on the loop. when_all
// continues once every child finished; an exception of a child is rethrown
// after all of them finished (the first one if several threw). when_any
// continues with the first child to finish (index and its result) after it
// requested stop on the others and waited for them: no child outlives the
// await, no operation is left pending, no completion is lost. Results of
// children returning void are std::monostate. Children inherit the
// awaiter's loop; a stop request to the awaiter reaches every child.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "proact/task.hpp"

namespace proact {

namespace detail {

template <class T>
using result_or_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// What co_await on an A gives (A is a task or an awaitable).
template <class A>
using await_result_t = decltype(std::declval<A>().await_resume());
template <class T>
struct task_value {
  using type = void;
};
template <class T>
struct task_value<task<T>> {
  using type = T;
};

// Children of when_all/when_any are tasks; other awaitables are wrapped in one.
template <class T>
task<T> as_task(task<T>&& t) noexcept {
  return std::move(t);
}
// A movable awaitable (an operation's) is kept in the wrapper; another one
// (a timer's wait) is referred to: it lives as long as the co_await
// expression that it is written in.
template <class A>
requires std::is_move_constructible_v<std::remove_cvref_t<A>>
auto as_task(A&& a) -> task<std::remove_cvref_t<decltype(a.await_resume())>> {
  return [](std::remove_cvref_t<A> held) -> task<std::remove_cvref_t<decltype(a.await_resume())>> {
    co_return co_await std::move(held);
  }(std::forward<A>(a));
}
template <class A>
requires(!std::is_move_constructible_v<std::remove_cvref_t<A>>) auto as_task(A&& a)
    -> task<std::remove_cvref_t<decltype(a.await_resume())>> {
  return [](std::remove_cvref_t<A>& held) -> task<std::remove_cvref_t<decltype(a.await_resume())>> {
    co_return co_await held;
  }(a);
}

// The state all children of one when_all/when_any share.
struct when_state {
  std::coroutine_handle<> parent;
  std::stop_token stop;
  loop* owner = nullptr;
  std::atomic<std::size_t> remaining{0};
  // when_any: the first child to finish, and the stop source of the others.
  std::atomic<std::size_t> winner{static_cast<std::size_t>(-1)};
  std::stop_source* losers = nullptr;
};

// The coroutine that runs one child: it awaits the child as a task would
// (the child inherits the stop token and the loop) and, when it ends,
// resumes the parent if it is the last one.
class when_child {
 public:
  struct promise_type {
    when_state* state = nullptr;
    std::size_t index = 0;
    when_child get_return_object() noexcept {
      return when_child(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        when_state& s = *self.promise().state;
        if (s.losers != nullptr) {
          std::size_t none = static_cast<std::size_t>(-1);
          if (s.winner.compare_exchange_strong(none, self.promise().index,
                                               std::memory_order_acq_rel))
            s.losers->request_stop();
        }
        if (s.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) return s.parent;
        return std::noop_coroutine();
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }  // run() catches
    std::stop_token get_stop_token() const noexcept {
      return state->losers != nullptr ? state->losers->get_token() : state->stop;
    }
    loop* get_loop() const noexcept { return state->owner; }
  };

  when_child() noexcept = default;
  when_child(when_child&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  when_child& operator=(when_child&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  when_child(const when_child&) = delete;
  when_child& operator=(const when_child&) = delete;
  ~when_child() {
    if (frame_) frame_.destroy();
  }
  void start(when_state& s, std::size_t index) {
    frame_.promise().state = &s;
    frame_.promise().index = index;
    frame_.resume();
  }

 private:
  explicit when_child(std::coroutine_handle<promise_type> f) noexcept : frame_(f) {}
  std::coroutine_handle<promise_type> frame_;
};

template <class T>
when_child run_child(task<T> t, std::optional<result_or_monostate<T>>& out,
                     std::exception_ptr& failure) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      out.emplace();
    } else {
      out.emplace(co_await std::move(t));
    }
  } catch (...) {
    failure = std::current_exception();
  }
}

// Awaits every child; `any` makes it a when_any (stop the others after the
// first).
template <bool Any, class... T>
class when_awaiter {
 public:
  explicit when_awaiter(task<T>... tasks) : tasks_(std::move(tasks)...) {}
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> parent) {
    state_.parent = parent;
    state_.stop = stop_token_of(parent);
    state_.owner = loop_of(parent);
    if constexpr (Any) {
      state_.losers = &losers_;
      if (state_.stop.stop_possible()) forward_stop_.emplace(state_.stop, forward_stop{&losers_});
    }
    // One extra count for this function: no child resumes the parent before
    // every child started.
    state_.remaining.store(sizeof...(T) + 1, std::memory_order_relaxed);
    start_all(std::index_sequence_for<T...>{});
    return state_.remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

 protected:
  struct forward_stop {
    std::stop_source* target;
    void operator()() const noexcept { target->request_stop(); }
  };
  template <std::size_t... I>
  void start_all(std::index_sequence<I...>) {
    (start_one<I>(), ...);
  }
  template <std::size_t I>
  void start_one() {
    children_[I] = run_child(std::move(std::get<I>(tasks_)), std::get<I>(results_), failures_[I]);
    children_[I].start(state_, I);
  }
  void finished() {
    forward_stop_.reset();
    for (auto& f : failures_)
      if (f && !Any) std::rethrow_exception(f);
  }

  std::tuple<task<T>...> tasks_;
  std::tuple<std::optional<result_or_monostate<T>>...> results_;
  std::exception_ptr failures_[sizeof...(T)];
  when_child children_[sizeof...(T)];
  when_state state_;
  std::stop_source losers_;
  std::optional<std::stop_callback<forward_stop>> forward_stop_;
};

}  // namespace detail

template <class... R>
struct when_any_result {
  std::size_t index = 0;     // which child finished first
  std::variant<R...> value;  // its result (alternative `index`)
};

template <class... T>
class when_all_awaiter final : detail::when_awaiter<false, T...> {
  using base = detail::when_awaiter<false, T...>;

 public:
  using base::await_ready;
  using base::await_suspend;
  explicit when_all_awaiter(task<T>... tasks) : base(std::move(tasks)...) {}
  std::tuple<detail::result_or_monostate<T>...> await_resume() {
    this->finished();
    return std::apply([](auto&... r) { return std::make_tuple(std::move(*r)...); }, this->results_);
  }
};

template <class... T>
class when_any_awaiter final : detail::when_awaiter<true, T...> {
  using base = detail::when_awaiter<true, T...>;

 public:
  using base::await_ready;
  using base::await_suspend;
  explicit when_any_awaiter(task<T>... tasks) : base(std::move(tasks)...) {}
  when_any_result<detail::result_or_monostate<T>...> await_resume() {
    this->finished();
    const std::size_t w = this->state_.winner.load(std::memory_order_acquire);
    if (this->failures_[w]) std::rethrow_exception(this->failures_[w]);
    when_any_result<detail::result_or_monostate<T>...> r{w, {}};
    pick(r, std::index_sequence_for<T...>{});
    return r;
  }

 private:
  template <std::size_t... I>
  void pick(when_any_result<detail::result_or_monostate<T>...>& r, std::index_sequence<I...>) {
    ((r.index == I ? (void)r.value.template emplace<I>(std::move(*std::get<I>(this->results_)))
                   : (void)0),
     ...);
  }
};

// co_await when_all(a, b, ...): a tuple of every result.
template <class... A>
auto when_all(A&&... children) {
  return when_all_awaiter(detail::as_task(std::forward<A>(children))...);
}
// co_await when_any(a, b, ...): the first result; the others were stopped and
// have finished.
template <class... A>
auto when_any(A&&... children) {
  return when_any_awaiter(detail::as_task(std::forward<A>(children))...);
}

}  // namespace proact
