// timer_service: the heap of a loop's timers and deadlines, expired by the
// threads that wait on the loop's port (see timer_service.hpp).
#include "common/timer_service.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <type_traits>

#include "proact/error.hpp"
#include "proact/loop.hpp"
#include "proact/timer.hpp"

namespace proact::detail {

namespace {
constexpr std::size_t largest_chunk = std::size_t{64} * 1024;  // packets

void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1);
#else
  (void)p;  // a hint only
#endif
}
void prefetch_timer(const timer* t) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(t);
  for (std::size_t offset = 0; offset < sizeof(timer); offset += 64) prefetch(bytes + offset);
}
}  // namespace

// Packets are built in raw storage and never destroyed one by one.
static_assert(std::is_trivially_destructible_v<timer_packet>);

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
  // The packet that will carry the expiry or the cancellation through the
  // port is set aside now and stays with the timer, so expiring, cancelling
  // and re-arming never allocate or fail.
  if (t.packet_ == nullptr && !t.reserved_) {
    if (!reserve()) return std::make_error_code(std::errc::not_enough_memory);
    t.reserved_ = true;
  }
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
    // and its expiry is queued now, as if a thread had watched it.
    (void)post_locked(t, {});
  }
  // A repeating timer between two arms (its expiry queued, or its handler
  // running) stops after that call, with one more, aborted, call.
  if ((t.calls_ != nullptr || t.packet_queued_ || t.listed_) &&
      t.interval_ > timer::clock::duration::zero() && !t.cancel_requested_ &&
      t.pending_.load(std::memory_order_acquire)) {
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
    if (t.listed_) unlist_ready(t);
    if (t.reserved_) {
      --reserved_;
      t.reserved_ = false;
    }
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
  t->packet_queued_ = false;
  run_calls(t, ec, lock);
}

void timer_service::run_calls(timer* t, std::error_code ec, std::unique_lock<std::mutex>& lock) {
  for (;;) {
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
    t->packet_queued_ = false;
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
  // Through the port when the list cannot grow: its packet is set aside.
  if (!to_ready_ || t.strand_ != nullptr || !list_ready(t)) (void)post_locked(t, {});
}

void timer_service::shutdown() {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  while (!heap_.empty()) {
    timer_entry& e = *heap_.front().entry;
    remove(e);
    // Timers end with an aborted call; an operation's deadline is dropped
    // (closing the port aborts the operation itself). Timers in the ready
    // list expired already: they run, as queued packets do.
    if (e.expire_ == &timer::expire)
      (void)post_locked(static_cast<timer&>(e), make_error_code(error::operation_aborted));
  }
}

// --- the loop's threads ------------------------------------------------------

std::size_t timer_service::run_ready(std::size_t budget) {
  if (budget == 0 || !ready_.load(std::memory_order_acquire)) return 0;
  std::unique_lock lock(mutex_);
  std::size_t ran = 0;
  while (ran < budget && ready_next_ < ready_size_) {
    // The timers are scattered, each a cache miss: those a few places
    // ahead are prefetched while these run.
    if (ready_next_ + 8 < ready_size_ && ready_list_[ready_next_ + 8] != nullptr)
      prefetch_timer(ready_list_[ready_next_ + 8]);
    timer* t = ready_list_[ready_next_];
    if (t == nullptr) {  // destroyed while listed
      ++ready_next_;
      continue;
    }
    unlist_ready(*t);
    ++ran;
    run_calls(t, {}, lock);
  }
  if (ready_next_ == ready_size_) {
    ready_next_ = ready_size_ = 0;
    ready_.store(false, std::memory_order_relaxed);
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

void timer_service::after_wait(timer_watch& w, bool work) {
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
    if (mostly_due(now)) {
      expire_in_bulk(now);
    } else {
      while (!heap_.empty() && heap_.front().deadline <= now) {
        timer_entry& e = *heap_.front().entry;
        remove(e);
        e.expire_(e);
      }
    }
    to_ready_ = false;
  }
  // This thread goes on to run handlers: another waiting thread takes the
  // watch, so that a long handler holds back no deadline. Not after a
  // timeout or a wake: this thread comes back to wait at once, and handing
  // the watch on to itself would spin.
  if (work && !heap_.empty() && watch_generation_ == 0 && runners > 1) post_wake_locked();
}

bool timer_service::mostly_due(timer::clock::time_point now) const noexcept {
  // Popping one by one costs a few cache misses per level (each move writes
  // the entry's index); a large heap of which most is due (a stalled loop, a
  // burst armed at once) is cheaper to split in one pass. Sixteen slots
  // spread over the array tell which case this is.
  constexpr std::size_t samples = 16;
  const std::size_t n = heap_.size();
  if (n < 1024) return false;
  std::size_t due = 0;
  for (std::size_t i = 0; i < samples; ++i)
    due += heap_[(2 * i + 1) * n / (2 * samples)].deadline <= now ? 1 : 0;
  return due >= samples * 3 / 4;
}

void timer_service::expire_in_bulk(timer::clock::time_point now) {
  // The due entries to the end, in deadline order (the order they expire in).
  const auto due =
      std::partition(heap_.begin(), heap_.end(), [now](const slot& s) { return s.deadline > now; });
  std::sort(due, heap_.end(), [](const slot& a, const slot& b) { return a.deadline < b.deadline; });
  const std::size_t kept = static_cast<std::size_t>(due - heap_.begin());
  if (to_ready_) reserve_ready(heap_.size() - kept);  // one allocation, not doublings
  for (std::size_t i = kept; i < heap_.size(); ++i) {
    // Prefetched a few ahead: the entries are scattered, each a cache miss.
    if (i + 8 < heap_.size()) prefetch(heap_[i + 8].entry);
    timer_entry& e = *heap_[i].entry;
    e.heap_index_ = timer_entry::not_in_heap;
    e.expire_(e);
  }
  heap_.resize(kept);
  // The rest becomes a heap again (Floyd's, linear).
  for (std::size_t i = 0; i < kept; ++i) heap_[i].entry->heap_index_ = i;
  if (kept > 1)
    for (std::size_t i = (kept - 2) / 4 + 1; i-- > 0;) sift_down(i);
  armed_.store(kept != 0);
}

void timer_service::post_wake_locked() noexcept {
  if (wake_queued_.exchange(true, std::memory_order_acq_rel)) return;  // one is on its way
  if (loop_.post_node(wake_)) wake_queued_.store(false, std::memory_order_release);
}

void timer_service::reserve_ready(std::size_t more) noexcept {
  if (ready_capacity_ - ready_size_ >= more) return;
  const std::size_t capacity =
      std::max({std::size_t{64}, 2 * ready_capacity_, ready_size_ - ready_next_ + more});
  std::unique_ptr<timer*[]> bigger(new (std::nothrow) timer*[capacity]);
  if (!bigger) return;  // list_ready() fails then, and the expiry is posted
  std::copy(ready_list_.get() + ready_next_, ready_list_.get() + ready_size_, bigger.get());
  ready_size_ -= ready_next_;
  for (std::size_t i = 0; i < ready_size_; ++i)
    if (bigger[i] != nullptr) bigger[i]->ready_index_ = i;
  ready_next_ = 0;
  ready_list_ = std::move(bigger);
  ready_capacity_ = capacity;
}

bool timer_service::list_ready(timer& t) noexcept {
  if (ready_size_ == ready_capacity_) {
    reserve_ready(1);
    if (ready_size_ == ready_capacity_) return false;
  }
  t.listed_ = true;
  t.ready_index_ = ready_size_;
  ready_list_[ready_size_++] = &t;
  ready_.store(true, std::memory_order_release);
  return true;
}

void timer_service::unlist_ready(timer& t) noexcept {
  t.listed_ = false;
  ready_list_[t.ready_index_] = nullptr;
  if (t.ready_index_ == ready_next_) ++ready_next_;
}

bool timer_service::post_locked(timer& t, std::error_code ec) {
  if (t.packet_ == nullptr) {  // an armed timer has its packet or a reservation
    t.packet_ = &take_reserved();
    t.reserved_ = false;
  }
  timer_packet& p = *t.packet_;
  p.owner_ = &t;
  loop_access::bind(p, t.strand_);
  if (loop_.post_result(p, 0, ec)) return false;
  t.packet_queued_ = true;
  return true;
}

bool timer_service::reserve() {
  if (reserved_ == free_count_ + (capacity_ - built_)) {
    // All spoken for: a larger chunk of raw storage, untouched until used.
    std::unique_ptr<packet_storage[]> storage(new (std::nothrow) packet_storage[next_chunk_]);
    if (!storage) return false;
    chunks_.push_back(chunk{std::move(storage), next_chunk_});
    capacity_ += next_chunk_;
    next_chunk_ = std::min(next_chunk_ * 2, largest_chunk);
  }
  ++reserved_;
  return true;
}

timer_packet& timer_service::take_reserved() noexcept {
  --reserved_;
  if (free_packets_ != nullptr) {
    timer_packet* p = free_packets_;
    free_packets_ = p->next_free_;
    --free_count_;
    return *p;
  }
  // The first packet never built: chunks fill in order.
  if (fresh_used_ == chunks_[fresh_chunk_].size) {
    ++fresh_chunk_;
    fresh_used_ = 0;
  }
  auto* p = new (chunks_[fresh_chunk_].storage[fresh_used_].bytes) timer_packet();
  ++fresh_used_;
  ++built_;
  p->service_ = this;
  return *p;
}

void timer_service::recycle(timer_packet& p) noexcept {
  p.owner_ = nullptr;
  p.next_free_ = free_packets_;
  free_packets_ = &p;
  ++free_count_;
}

// --- the heap (4-ary): heap_[i].entry->heap_index_ == i -----------------------

void timer_service::place(std::size_t i, const slot& s) {
  heap_[i] = s;
  s.entry->heap_index_ = i;
}

void timer_service::push(timer_entry& e) {
  heap_.push_back(slot{e.deadline_, &e});
  e.heap_index_ = heap_.size() - 1;
  sift_up(e.heap_index_);
  // Sequentially consistent (see before_wait()); only when it changes, as
  // the store drains the store buffer.
  if (!armed_.load(std::memory_order_relaxed)) armed_.store(true);
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

// Four children per node: half the levels of a binary heap, and the four
// children of a node share a cache line (16-byte slots).
void timer_service::sift_up(std::size_t i) {
  const slot s = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 4;
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
    const std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t child = first;
    const std::size_t end = std::min(first + 4, n);
    for (std::size_t c = first + 1; c < end; ++c)
      if (heap_[c].deadline < heap_[child].deadline) child = c;
    if (!(heap_[child].deadline < s.deadline)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, s);
}

}  // namespace proact::detail
