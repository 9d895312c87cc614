// timer and timer_service: a binary heap of armed timers per loop, watched by
// one thread that posts expiries to the loop's port.
#include <chrono>
#include <system_error>

#include "common/timer_service.hpp"
#include "proact/error.hpp"
#include "proact/loop.hpp"
#include "proact/timer.hpp"

namespace proact {

timer::~timer() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  loop_.timers().forget(*this);
}

std::error_code timer::arm(clock::time_point deadline, clock::duration interval) {
  deadline_ = deadline;
  interval_ = interval;
  std::error_code ec = loop_.timers().arm(*this);
  if (ec) {
    handler_.reset();
    pending_.store(false, std::memory_order_release);
  }
  return ec;
}

std::error_code timer::cancel() {
  return loop_.timers().cancel(*this);
}

void timer::finish(loop_node& self, std::size_t, std::error_code ec) {
  auto& t = static_cast<timer&>(self);
  if (ec || t.interval_ <= clock::duration::zero()) {
    // The last call: nothing touches the timer after the handler, which may
    // re-arm it, destroy it, or let another thread destroy it.
    t.pending_.store(false, std::memory_order_release);
    t.handler_(ec);
    return;
  }
  // A repeating expiry: re-armed after the handler, unless the handler
  // destroyed the timer.
  bool destroyed = false;
  t.destroyed_ = &destroyed;
  t.loop_.timers().begin_handler(t);
  t.handler_(ec);
  if (destroyed) return;
  t.destroyed_ = nullptr;
  t.loop_.timers().rearm(t);
}

namespace detail {

timer_service::~timer_service() {
  shutdown();
}

std::error_code timer_service::arm(timer& t) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return make_error_code(error::port_closed);
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  push(t);
  if (t.heap_index_ == 0) wake_.notify_one();  // a new earliest deadline
  return {};
}

std::error_code timer_service::cancel(timer& t) {
  std::lock_guard lock(mutex_);
  if (t.heap_index_ != not_in_heap) {
    remove(t);
    post_locked(t, make_error_code(error::operation_aborted));
    return {};
  }
  if (t.handler_running_ && !t.cancel_requested_) {
    t.cancel_requested_ = true;
    return {};
  }
  return make_error_code(error::not_found);
}

void timer_service::forget(timer& t) noexcept {
  std::lock_guard lock(mutex_);
  if (t.heap_index_ != not_in_heap) remove(t);
}

void timer_service::begin_handler(timer& t) {
  std::lock_guard lock(mutex_);
  t.handler_running_ = true;
  t.cancel_requested_ = false;
}

void timer_service::rearm(timer& t) {
  {
    std::lock_guard lock(mutex_);
    t.handler_running_ = false;
    if (!t.cancel_requested_ && !shut_down_) {
      // The next deadline on the original grid; periods that were missed
      // entirely (a slow handler) are skipped, not run back to back.
      const auto now = timer::clock::now();
      t.deadline_ += t.interval_;
      if (t.deadline_ <= now) t.deadline_ += ((now - t.deadline_) / t.interval_ + 1) * t.interval_;
      push(t);
      if (t.heap_index_ == 0) wake_.notify_one();
      return;
    }
    if (loop_.post_result(t, 0, make_error_code(error::operation_aborted)) == std::error_code{})
      return;
  }
  // The port is closed: the final call happens here, still exactly once.
  t.pending_.store(false, std::memory_order_release);
  t.handler_(make_error_code(error::operation_aborted));
}

void timer_service::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (!shut_down_) {
      shut_down_ = true;
      while (!heap_.empty()) {
        timer& t = *heap_.front();
        remove(t);
        post_locked(t, make_error_code(error::operation_aborted));
      }
      wake_.notify_one();
    }
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void timer_service::run() {
  std::unique_lock lock(mutex_);
  while (!shut_down_) {
    if (heap_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto now = timer::clock::now();
    if (const timer::clock::time_point next = heap_.front()->deadline_; next > now) {
      // A copy: the timer may be cancelled and destroyed while this waits.
      wake_.wait_until(lock, next);
      continue;
    }
    while (!heap_.empty() && heap_.front()->deadline_ <= now) {
      timer& t = *heap_.front();
      remove(t);
      post_locked(t, {});
    }
  }
}

void timer_service::post_locked(timer& t, std::error_code ec) {
  // Only stop() closes the port, after shutdown(): this cannot fail.
  (void)loop_.post_result(t, 0, ec);
}

// --- the heap: heap_[i]->heap_index_ == i ---------------------------------

void timer_service::place(std::size_t i, timer* t) {
  heap_[i] = t;
  t->heap_index_ = i;
}

void timer_service::push(timer& t) {
  heap_.push_back(&t);
  t.heap_index_ = heap_.size() - 1;
  sift_up(t.heap_index_);
}

void timer_service::remove(timer& t) {
  const std::size_t i = t.heap_index_;
  timer* last = heap_.back();
  heap_.pop_back();
  t.heap_index_ = not_in_heap;
  if (last == &t) return;
  place(i, last);
  sift_down(i);
  sift_up(last->heap_index_);
}

void timer_service::sift_up(std::size_t i) {
  timer* t = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(t->deadline_ < heap_[parent]->deadline_)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void timer_service::sift_down(std::size_t i) {
  timer* t = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->deadline_ < heap_[child]->deadline_) ++child;
    if (!(heap_[child]->deadline_ < t->deadline_)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace detail
}  // namespace proact
