// signal_set: process signals as completions on the loop's port, so that a
// server stops cleanly on Ctrl-C or a termination request without platform
// code of its own.
//
//   proact::signal_set signals(lp, {proact::signal_set::interrupt, proact::signal_set::terminate});
//   signals.wait([&](std::error_code ec, int signal) { if (!ec) lp.stop(); });
//   auto [ec, signal] = co_await signals.wait();           // in a coroutine
//
// The portable signals are interrupt (SIGINT; Ctrl-C and Ctrl-Break on a
// Windows console), terminate (SIGTERM; closing the console window, logoff
// and shutdown on Windows) and hangup (SIGHUP; POSIX only: accepted on
// Windows, where nothing raises it). Their values are the POSIX ones, so
// SIGINT, SIGTERM and SIGHUP may be passed as they are.
//
// While a signal is in some set, the process catches it instead of its
// default action (ending the process); once no set holds it any more, the
// previous action is back. Every set that holds a signal receives each
// arrival of it: a set with a wait pending completes that wait; a set with
// none keeps the arrival (counted per signal) for its next wait, so none is
// lost. A set has one wait pending at a time (another gives
// errc::operation_in_progress); cancel() and the loop's stop complete it
// with errc::operation_aborted. A set may be destroyed at any moment; its
// handler is not called once its destructor began.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stop_token>
#include <system_error>
#include <thread>
#include <utility>

#include "proact/detail/handler_awaitable.hpp"
#include "proact/detail/handler_storage.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/error.hpp"
#include "proact/export.hpp"

namespace proact {

class loop;

namespace detail {
class signal_service;
class signal_request;
struct signal_registry;
}  // namespace detail

// What an awaited signal wait gives: auto [ec, signal] = co_await s.wait();
struct signal_result {
  std::error_code error;
  int signal = 0;
};

class PROACT_API signal_set {
 public:
  static constexpr int hangup = 1;
  static constexpr int interrupt = 2;
  static constexpr int terminate = 15;

  explicit signal_set(loop& l);
  // Adds each signal; throws std::system_error if one cannot be added.
  signal_set(loop& l, std::initializer_list<int> signals);
  signal_set(const signal_set&) = delete;
  signal_set& operator=(const signal_set&) = delete;
  // Removes its signals and drops a pending wait: the handler is not called.
  ~signal_set();

  // Catches `signal` for this set from now on (adding it again does
  // nothing). invalid_argument for a signal that is not one of the three.
  [[nodiscard]] std::error_code add(int signal);
  // Stops catching it for this set (arrivals kept for it are dropped);
  // not_found if the set does not hold it.
  [[nodiscard]] std::error_code remove(int signal);
  // Removes every signal.
  void clear() noexcept;

  // Calls handler(std::error_code ec, int signal) on a loop thread once, when
  // one of the set's signals arrived (at once if one arrived since the last
  // wait) or with errc::operation_aborted. Returns an error (and never calls
  // the handler) if it could not start: operation_in_progress, port_closed
  // once the loop stopped.
  template <class F>
  std::error_code wait(F&& handler) {
    if (pending_.exchange(true, std::memory_order_acq_rel))
      return make_error_code(error::operation_in_progress);
    handler_.emplace(std::forward<F>(handler));
    return start();
  }
  // Completes the pending wait with errc::operation_aborted; errc::not_found
  // if none is pending (or its signal is already queued).
  [[nodiscard]] std::error_code cancel();
  bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
  loop& get_loop() const noexcept { return loop_; }

  // Awaitable: auto [ec, signal] = co_await s.wait(); cancelled by the
  // coroutine's stop token too.
  struct wait_awaitable;
  wait_awaitable wait() noexcept;

 private:
  friend class detail::signal_service;
  friend class detail::signal_request;
  friend struct detail::signal_registry;
  static constexpr int slots = 3;  // hangup, interrupt, terminate

  std::error_code start();

  loop& loop_;
  std::shared_ptr<detail::signal_service> service_;
  // Under the service's lock: the pending wait, the set's signals and the
  // arrivals no wait took yet.
  detail::signal_request* request_ = nullptr;
  bool caught_[slots] = {};
  std::uint32_t arrived_[slots] = {};
  detail::handler_storage<void(std::error_code, int), 48> handler_;
  std::atomic<bool> pending_{false};
};

struct signal_set::wait_awaitable final
    : detail::handler_awaitable<wait_awaitable, signal_set, signal_result> {
  explicit wait_awaitable(signal_set& s) noexcept : handler_awaitable(s) {}

  std::error_code start_call() {
    return owner_->wait([this](std::error_code ec, int signal) {
      arrive(signal_result{ec, signal});
    });
  }
};

inline signal_set::wait_awaitable signal_set::wait() noexcept {
  return wait_awaitable(*this);
}

}  // namespace proact
