// timer and timer_service: a binary heap of armed timers and deadlines per
// loop, watched by one thread that posts timer expiries to the loop's port
// and cancels operations whose deadline passed.
#include <chrono>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include "common/timer_service.hpp"
#include "proact/error.hpp"
#include "proact/loop.hpp"
#include "proact/timer.hpp"

namespace proact {

timer::~timer() {
  loop_.timers().destroy(*this);
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

void timer::expire(timer_entry& self) {
  auto& t = static_cast<timer&>(self);
  t.loop_.timers().expire_timer(t);
}

namespace detail {

namespace {
constexpr std::size_t packets_per_chunk = 64;
}  // namespace

void timer_packet::finish(loop_node& self, std::size_t, std::error_code ec) {
  auto& p = static_cast<timer_packet&>(self);
  p.service_->deliver(p, ec);
}

timer_service::~timer_service() {
  shutdown();
}

std::error_code timer_service::arm(timer& t) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return make_error_code(error::port_closed);
  if (t.destroying_) return make_error_code(error::operation_aborted);
  // The packet that will carry the expiry stays with the timer from now
  // on, so expiring, cancelling and re-arming never allocate or fail.
  if (t.packet_ == nullptr && (t.packet_ = take_packet()) == nullptr)
    return std::make_error_code(std::errc::not_enough_memory);
  t.cancel_requested_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  push(t);
  return {};
}

std::error_code timer_service::add(timer_entry& e) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return make_error_code(error::port_closed);
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  push(e);
  return {};
}

void timer_service::remove_if_armed(timer_entry& e) noexcept {
  std::lock_guard lock(mutex_);
  if (e.in_heap()) remove(e);
}

std::error_code timer_service::cancel(timer& t) {
  std::lock_guard lock(mutex_);
  if (t.in_heap()) {
    remove(t);
    // Only stop() closes the port, after shutdown() emptied the heap.
    (void)post_locked(t, make_error_code(error::operation_aborted));
    return {};
  }
  // A repeating timer between two arms (its expiry queued, or its handler
  // running) stops after that call, with one more, aborted, call.
  if ((t.calls_ != nullptr || t.packet_queued_) && t.interval_ > timer::clock::duration::zero() &&
      !t.cancel_requested_ && t.pending_.load(std::memory_order_acquire)) {
    t.cancel_requested_ = true;
    return {};
  }
  return make_error_code(error::not_found);
}

void timer_service::destroy(timer& t) noexcept {
  std::unique_lock lock(mutex_);
  t.destroying_ = true;
  // Calls on this thread (the destructor runs inside the handler) learn that
  // the timer is gone; they touch it no more.
  for (timer_call** c = &t.calls_; *c != nullptr;) {
    if ((*c)->thread == std::this_thread::get_id()) {
      (*c)->destroyed = true;
      *c = (*c)->next;
    } else {
      c = &(*c)->next;
    }
  }
  for (;;) {
    if (t.in_heap()) remove(t);
    if (t.packet_ != nullptr) {
      if (t.packet_queued_) {
        t.packet_->owner_ = nullptr;  // dequeued later, it calls nobody
      } else {
        recycle(*t.packet_);
      }
      t.packet_ = nullptr;
      t.packet_queued_ = false;
    }
    if (t.calls_ == nullptr) break;
    calls_done_.wait(lock);  // a call on another thread: its handler is in use
  }
}

void timer_service::deliver(timer_packet& p, std::error_code ec) {
  std::unique_lock lock(mutex_);
  timer* t = p.owner_;
  if (t == nullptr) {
    recycle(p);  // its timer was destroyed while it was queued
    return;
  }
  for (;;) {
    t->packet_queued_ = false;
    const bool last = ec || t->interval_ <= timer::clock::duration::zero();
    if (last) t->pending_.store(false, std::memory_order_release);
    timer_call call{std::this_thread::get_id(), false, t->calls_};
    t->calls_ = &call;
    lock.unlock();
    t->handler_(ec);
    lock.lock();
    if (call.destroyed) return;  // ~timer ran in the handler and unlinked the call
    for (timer_call** c = &t->calls_; *c != nullptr; c = &(*c)->next) {
      if (*c == &call) {
        *c = call.next;
        break;
      }
    }
    calls_done_.notify_all();
    if (last || !rearm_locked(*t)) return;
    ec = make_error_code(error::operation_aborted);  // the final call, here
  }
}

bool timer_service::rearm_locked(timer& t) {
  if (!t.cancel_requested_ && !shut_down_ && !t.destroying_) {
    // The next deadline on the original grid; periods that were missed
    // entirely (a slow handler) are skipped, not run back to back.
    const auto now = timer::clock::now();
    t.deadline_ += t.interval_;
    if (t.deadline_ <= now) t.deadline_ += ((now - t.deadline_) / t.interval_ + 1) * t.interval_;
    push(t);
    return false;
  }
  if (t.destroying_) return false;
  if (post_locked(t, make_error_code(error::operation_aborted))) return false;
  // The port is closed: the final call happens here, still exactly once.
  return true;
}

void timer_service::expire_timer(timer& t) {
  (void)post_locked(t, {});
}

void timer_service::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (!shut_down_) {
      shut_down_ = true;
      while (!heap_.empty()) {
        timer_entry& e = *heap_.front();
        remove(e);
        // Timers end with an aborted call; an operation's deadline is
        // dropped (closing the port aborts the operation itself).
        if (e.expire_ == &timer::expire)
          (void)post_locked(static_cast<timer&>(e), make_error_code(error::operation_aborted));
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
      // A copy: the entry may be removed and destroyed while this waits.
      wake_.wait_until(lock, next);
      continue;
    }
    while (!heap_.empty() && heap_.front()->deadline_ <= now) {
      timer_entry& e = *heap_.front();
      remove(e);
      e.expire_(e);
    }
  }
}

bool timer_service::post_locked(timer& t, std::error_code ec) {
  timer_packet& p = *t.packet_;  // an armed timer has its packet
  p.owner_ = &t;
  loop_access::bind(p, t.strand_);
  if (loop_.post_result(p, 0, ec)) return false;
  t.packet_queued_ = true;
  return true;
}

timer_packet* timer_service::take_packet() {
  if (free_packets_ == nullptr) {
    std::unique_ptr<timer_packet[]> chunk(new (
        std::nothrow) timer_packet[packets_per_chunk]);  // NOLINT(cppcoreguidelines-avoid-c-arrays)
    if (!chunk) return nullptr;
    for (std::size_t i = 0; i < packets_per_chunk; ++i) {
      chunk[i].service_ = this;
      chunk[i].next_free_ = free_packets_;
      free_packets_ = &chunk[i];
    }
    packet_chunks_.push_back(std::move(chunk));
  }
  timer_packet* p = free_packets_;
  free_packets_ = p->next_free_;
  return p;
}

void timer_service::recycle(timer_packet& p) noexcept {
  p.owner_ = nullptr;
  p.next_free_ = free_packets_;
  free_packets_ = &p;
}

// --- the heap: heap_[i]->heap_index_ == i ---------------------------------

void timer_service::place(std::size_t i, timer_entry* e) {
  heap_[i] = e;
  e->heap_index_ = i;
}

void timer_service::push(timer_entry& e) {
  heap_.push_back(&e);
  e.heap_index_ = heap_.size() - 1;
  sift_up(e.heap_index_);
  if (e.heap_index_ == 0) wake_.notify_one();  // a new earliest deadline
}

void timer_service::remove(timer_entry& e) {
  const std::size_t i = e.heap_index_;
  timer_entry* last = heap_.back();
  heap_.pop_back();
  e.heap_index_ = timer_entry::not_in_heap;
  if (last == &e) return;
  place(i, last);
  sift_down(i);
  sift_up(last->heap_index_);
}

void timer_service::sift_up(std::size_t i) {
  timer_entry* e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(e->deadline_ < heap_[parent]->deadline_)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void timer_service::sift_down(std::size_t i) {
  timer_entry* e = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->deadline_ < heap_[child]->deadline_) ++child;
    if (!(heap_[child]->deadline_ < e->deadline_)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, e);
}

}  // namespace detail
}  // namespace proact
