// timer_service: the heap of a loop's timers and deadlines, expired by the
// threads that wait on the loop's port (see timer_service.hpp).
#include "common/timer_service.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>

#include "proact/error.hpp"
#include "proact/loop.hpp"
#include "proact/timer.hpp"

namespace proact::detail {

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
  push(t);
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
    if (t.deadline_ > timer::clock::now()) {
      // Only stop() closes the port, after shutdown() emptied the heap.
      (void)post_locked(t, make_error_code(error::operation_aborted));
      return {};
    }
    // Its deadline passed while no thread waited on the port: it expired,
    // and its expiry is queued now, as a timer thread would have done.
    (void)post_locked(t, {});
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
  if (!to_ready_) {
    (void)post_locked(t, {});
    return;
  }
  // Listed like a queued packet, so cancel() and ~timer treat it alike.
  timer_packet& p = *t.packet_;
  p.owner_ = &t;
  loop_access::bind(p, t.strand_);
  p.link_ = nullptr;
  if (ready_tail_ != nullptr) {
    ready_tail_->link_ = &p;
  } else {
    ready_head_ = &p;
  }
  ready_tail_ = &p;
  t.packet_queued_ = true;
}

void timer_service::shutdown() {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  while (!heap_.empty()) {
    timer_entry& e = *heap_.front().entry;
    remove(e);
    // Timers end with an aborted call; an operation's deadline is dropped
    // (closing the port aborts the operation itself). Listed expiries still
    // run, as queued packets do.
    if (e.expire_ == &timer::expire)
      (void)post_locked(static_cast<timer&>(e), make_error_code(error::operation_aborted));
  }
}

// --- the loop's threads ------------------------------------------------------

std::size_t timer_service::run_ready(std::size_t budget) {
  if (budget == 0 || !ready_.load(std::memory_order_acquire)) return 0;
  timer_packet* first = nullptr;
  {
    std::lock_guard lock(mutex_);
    first = ready_head_;
    if (first == nullptr) return 0;
    timer_packet* last = first;
    for (std::size_t n = 1; n < budget && last->link_ != nullptr; ++n) last = last->link_;
    ready_head_ = last->link_;
    last->link_ = nullptr;
    if (ready_head_ == nullptr) {
      ready_tail_ = nullptr;
      ready_.store(false, std::memory_order_relaxed);
    }
  }
  // Taken off the list, each still counts as queued: a timer destroyed
  // meanwhile only clears its packet's owner, and deliver() recycles it.
  std::size_t ran = 0;
  for (timer_packet* p = first; p != nullptr; ++ran) {
    timer_packet* next = p->link_;  // read first: delivering may recycle p
    loop_.dispatch_node(*p, 0, {});
    p = next;
  }
  return ran;
}

timeout timer_service::before_wait(timeout t, timer_watch& w) {
  // Sequentially consistent with push()'s store and its read of the runner
  // count: a thread arming the first entry either sees this thread among the
  // runners (and wakes it) or this thread sees the entry.
  if (!armed_.load()) return t;
  std::lock_guard lock(mutex_);
  if (heap_.empty()) return t;
  const timer::clock::time_point first = heap_.front().deadline;
  if (watch_generation_ != 0 && watch_until_ <= first) return t;  // watched in time
  w.generation = watch_generation_ = ++next_generation_;
  watch_until_ = first;
  const auto now = timer::clock::now();
  if (first <= now) return timeout::zero();
  // Rounded up: the port counts milliseconds, and waking early would spin.
  const auto left = std::chrono::ceil<timeout>(first - now);
  return std::min(t, left);
}

void timer_service::after_wait(timer_watch& w) {
  if (w.generation == 0) return;
  std::lock_guard lock(mutex_);
  if (watch_generation_ == w.generation) watch_generation_ = 0;
  w.generation = 0;
  if (heap_.empty()) return;
  const unsigned runners = loop_.runners_.load();
  const auto now = timer::clock::now();
  if (heap_.front().deadline <= now) {
    // One thread runs the loop: it runs the expiries itself, from the list.
    // Several: through the port, under its concurrency value.
    to_ready_ = runners <= 1;
    while (!heap_.empty() && heap_.front().deadline <= now) {
      timer_entry& e = *heap_.front().entry;
      remove(e);
      e.expire_(e);
    }
    to_ready_ = false;
    if (ready_head_ != nullptr) ready_.store(true, std::memory_order_release);
  }
  // This thread goes on to run handlers: another waiting thread takes the
  // watch, so that a long handler holds back no deadline.
  if (!heap_.empty() && watch_generation_ == 0 && runners > 1) post_wake_locked();
}

void timer_service::post_wake_locked() noexcept {
  if (wake_queued_.exchange(true, std::memory_order_acq_rel)) return;  // one is on its way
  if (loop_.post_node(wake_)) wake_queued_.store(false, std::memory_order_release);
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
      chunk[i].link_ = free_packets_;
      free_packets_ = &chunk[i];
    }
    packet_chunks_.push_back(std::move(chunk));
  }
  timer_packet* p = free_packets_;
  free_packets_ = p->link_;
  p->link_ = nullptr;
  return p;
}

void timer_service::recycle(timer_packet& p) noexcept {
  p.owner_ = nullptr;
  p.link_ = free_packets_;
  free_packets_ = &p;
}

// --- the heap: heap_[i].entry->heap_index_ == i ------------------------------

void timer_service::place(std::size_t i, const slot& s) {
  heap_[i] = s;
  s.entry->heap_index_ = i;
}

void timer_service::push(timer_entry& e) {
  heap_.push_back(slot{e.deadline_, &e});
  e.heap_index_ = heap_.size() - 1;
  sift_up(e.heap_index_);
  armed_.store(true);  // see before_wait()
  if (e.heap_index_ != 0) return;
  // A new earliest deadline: does a thread wait on the port that will not
  // wake by then? This thread, if it runs the loop, looks again before it
  // waits.
  if (watch_generation_ != 0 && watch_until_ <= e.deadline_) return;
  const unsigned others = loop_.runners_.load() - (loop_.running_in_this_thread() ? 1U : 0U);
  if (others != 0) post_wake_locked();
}

void timer_service::remove(timer_entry& e) {
  const std::size_t i = e.heap_index_;
  const slot last = heap_.back();
  heap_.pop_back();
  e.heap_index_ = timer_entry::not_in_heap;
  if (heap_.empty()) armed_.store(false, std::memory_order_relaxed);
  if (last.entry == &e) return;
  place(i, last);
  sift_down(i);
  sift_up(last.entry->heap_index_);
}

void timer_service::sift_up(std::size_t i) {
  const slot s = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(s.deadline < heap_[parent].deadline)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, s);
}

void timer_service::sift_down(std::size_t i) {
  const slot s = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1].deadline < heap_[child].deadline) ++child;
    if (!(heap_[child].deadline < s.deadline)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, s);
}

}  // namespace proact::detail
