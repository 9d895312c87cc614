#include "linux/completion_engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <mutex>
#include <semaphore>

#include "common/backend.hpp"
#include "proact/error.hpp"

namespace proact::detail {

// What a thread's association keeps of an engine. The engine goes with its
// port, and a thread that once waited there may live on long after; the
// link outlives the engine until every such thread has let go of it.
struct engine_link {
  std::mutex lock;                // held while a leaving thread uses `engine`
  completion_engine* engine;      // null once the engine is closed or gone
  std::atomic<unsigned> refs{1};  // the engine's, plus one per associated thread

  explicit engine_link(completion_engine* e) noexcept : engine(e) {}

  // The engine is closed: leaving threads have nothing left to tell it.
  void cut() noexcept {
    std::lock_guard guard(lock);
    engine = nullptr;
  }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

namespace {

using clock = std::chrono::steady_clock;

// The engine this thread last waited on (IOCP associates a thread with one
// port) and whether it counts as active there.
struct thread_association {
  engine_link* link = nullptr;
  bool active = false;
  unsigned blocking_scopes = 0;
  bool left_to_block = false;  // active when the outermost scope began

  thread_association() = default;
  thread_association(const thread_association&) = delete;
  thread_association& operator=(const thread_association&) = delete;
  ~thread_association() { leave(); }

  void leave() noexcept {
    engine_link* old = link;
    if (old == nullptr) return;
    const bool was_active = active;
    link = nullptr;
    active = false;
    left_to_block = false;
    {
      std::lock_guard guard(old->lock);
      if (old->engine != nullptr) old->engine->detach_thread(was_active);
    }
    old->release();
  }

  void block() noexcept {
    if (blocking_scopes++ != 0 || link == nullptr || !active) return;
    active = false;
    left_to_block = true;
    std::lock_guard guard(link->lock);
    if (link->engine != nullptr) link->engine->detach_thread(true);
  }

  void unblock() noexcept {
    if (blocking_scopes == 0 || --blocking_scopes != 0 || !left_to_block) return;
    left_to_block = false;
    std::lock_guard guard(link->lock);
    if (link->engine != nullptr && link->engine->rejoin_thread()) active = true;
  }
};

thread_local thread_association this_thread;

// The engine whose source this thread is polling, if any. A completion that
// the polling thread delivers itself (a backend flushes under a handle's
// lock) would ask to interrupt that very thread: it is not blocked in the
// kernel and does not block again before its poll returns, so the wake-up
// (an eventfd write, and the read that drains it) would be wasted.
thread_local const completion_engine* polling_engine = nullptr;

// Timeouts beyond this are treated as infinite (and cannot overflow a
// time_point).
constexpr timeout longest_finite_timeout = std::chrono::hours(24 * 365);

int milliseconds_until(clock::time_point deadline) noexcept {
  if (deadline == clock::time_point::max()) return -1;
  const auto left = deadline - clock::now();
  if (left <= clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

// A thread blocked in wait(). Lives on that thread's stack. Other threads
// change it only under the engine mutex, and signal it afterwards; `owed`
// counts those signals so the owner consumes them all before returning (the
// semaphore must outlive every release()).
struct completion_engine::waiter {
  explicit waiter(std::span<completion> o) noexcept : out(o.data()), capacity(o.size()) {}

  completion* out;
  std::size_t capacity;
  std::size_t count = 0;  // packets handed over
  waiter* older = nullptr;
  waiter* newer = nullptr;
  waiter* next_to_wake = nullptr;
  bool on_stack = false;
  bool poller = false;
  unsigned owed = 0;
  std::counting_semaphore<> signal{0};
};

// Who to wake once the mutex is released.
struct completion_engine::wake_set {
  waiter* waiters = nullptr;
  bool interrupt = false;
  bool empty() const noexcept { return waiters == nullptr && !interrupt; }
};

// ---- completion_batch -------------------------------------------------------

void completion_batch::push(const completion& c) noexcept {
  if (size_ == capacity) flush();
  items_[size_++].value = c;
}

void completion_batch::flush() noexcept {
  if (size_ == 0) return;
  engine_.deliver(items());
  size_ = 0;
}

// ---- ring -------------------------------------------------------------------

void completion_engine::ring::push(const completion& c) {
  if (count_ == slots_.size()) grow();
  slots_[(head_ + count_) & mask_] = c;
  ++count_;
}

void completion_engine::ring::grow() {
  // Only past the deepest queue seen so far: no allocation in steady state.
  std::vector<completion> bigger(slots_.size() * 2);
  for (std::size_t i = 0; i < count_; ++i) bigger[i] = slots_[(head_ + i) & mask_];
  slots_.swap(bigger);
  mask_ = slots_.size() - 1;
  head_ = 0;
}

std::size_t completion_engine::ring::pop(completion* out, std::size_t max) noexcept {
  const std::size_t n = std::min(max, count_);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = slots_[head_];
    head_ = (head_ + 1) & mask_;
  }
  count_ -= n;
  return n;
}

// ---- engine -----------------------------------------------------------------

completion_engine::completion_engine(port_backend& owner, event_source& source,
                                     unsigned concurrency)
    : owner_(owner),
      source_(source),
      concurrency_(concurrency == 0 ? 1 : concurrency),
      link_(new engine_link(this)) {}

completion_engine::~completion_engine() {
  link_->cut();
  link_->release();
}

bool completion_engine::closed() const noexcept {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool completion_engine::can_take_locked() const noexcept {
  return !queue_.empty() && (closed_ || active_ < concurrency_);
}

std::size_t completion_engine::take_locked(std::span<completion> out) noexcept {
  const std::size_t n = queue_.pop(out.data(), out.size());
  poll_budget_ -= static_cast<std::ptrdiff_t>(n);
  ++active_;
  return n;
}

// A waiter lives on its thread's stack and is always unlinked before wait()
// returns; GCC cannot see that across the loop.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
void completion_engine::push_waiter_locked(waiter& w) noexcept {
  w.older = top_;
  w.newer = nullptr;
  if (top_ != nullptr) top_->newer = &w;
  top_ = &w;
  w.on_stack = true;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void completion_engine::remove_waiter_locked(waiter& w) noexcept {
  if (w.newer != nullptr) w.newer->older = w.older;
  if (w.older != nullptr) w.older->newer = w.newer;
  if (top_ == &w) top_ = w.older;
  w.older = w.newer = nullptr;
  w.on_stack = false;
}

void completion_engine::schedule_wake_locked(waiter& w, waiter* self, wake_set& ws) noexcept {
  if (&w == self) return;  // already running
  if (w.poller) {
    // The poller is woken through the event source, not its semaphore.
    if (in_source_ && !interrupted_) {
      interrupted_ = true;
      ws.interrupt = true;
    }
    return;
  }
  ++w.owed;
  w.next_to_wake = ws.waiters;
  ws.waiters = &w;
}

completion_engine::wake_set completion_engine::release_waiters_locked(waiter* self) noexcept {
  wake_set ws;
  while (top_ != nullptr && can_take_locked()) {
    waiter& w = *top_;  // last in, first out
    remove_waiter_locked(w);
    w.count = take_locked(std::span<completion>(w.out, w.capacity));
    schedule_wake_locked(w, self, ws);
  }
  return ws;
}

completion_engine::wake_set completion_engine::wake_all_locked(waiter* self) noexcept {
  wake_set ws;
  while (top_ != nullptr) {
    waiter& w = *top_;
    remove_waiter_locked(w);
    schedule_wake_locked(w, self, ws);
  }
  if (polling_ && in_source_ && !interrupted_) {
    interrupted_ = true;
    ws.interrupt = true;
  }
  return ws;
}

completion_engine::wake_set completion_engine::promote_poller_locked() noexcept {
  wake_set ws;
  poller_present_ = false;
  if (closed_ || top_ == nullptr) return ws;
  // The most recent waiter gets the next packet anyway; let it watch the kernel.
  waiter& w = *top_;
  w.poller = true;
  poller_present_ = true;
  ++w.owed;
  w.next_to_wake = nullptr;
  ws.waiters = &w;
  return ws;
}

void completion_engine::signal(const wake_set& ws) noexcept {
  for (waiter* w = ws.waiters; w != nullptr;) {
    waiter* next = w->next_to_wake;  // w may be gone once released
    w->signal.release();
    w = next;
  }
  if (ws.interrupt && polling_engine != this) source_.interrupt();
}

void completion_engine::signal_unlocked(std::unique_lock<word_mutex>& lock,
                                        const wake_set& ws) noexcept {
  if (ws.empty()) return;
  lock.unlock();
  signal(ws);
  lock.lock();
}

void completion_engine::deliver(std::span<const completion> items) noexcept {
  wake_set ws;
  {
    std::lock_guard lock(mutex_);
    for (const completion& c : items) queue_.push(c);
    ws = release_waiters_locked(nullptr);
  }
  signal(ws);
}

std::error_code completion_engine::post(const completion& c) noexcept {
  wake_set ws;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return make_error_code(error::port_closed);
    queue_.push(c);
    if (top_ == nullptr) return {};  // nobody waits: the next wait() takes it
    ws = release_waiters_locked(nullptr);
  }
  signal(ws);
  return {};
}

void completion_engine::close() noexcept {
  // From now on no thread's departure concerns the engine: nothing is
  // released by concurrency any more, and the source submitted everything.
  link_->cut();
  wake_set ws;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    ws = wake_all_locked(nullptr);
  }
  signal(ws);
}

void completion_engine::poll_once(std::unique_lock<word_mutex>& lock, int timeout_ms,
                                  waiter* self) noexcept {
  // A thread that is not waiting (a zero-timeout or fairness poll) borrows the
  // poller role for the duration, so that no waiter starts polling alongside.
  const bool borrowed = self == nullptr;
  if (borrowed) poller_present_ = true;
  polling_ = true;
  in_source_ = true;
  interrupted_ = false;
  lock.unlock();
  completion_batch batch(*this);
  polling_engine = this;
  source_.poll_events(timeout_ms, batch);
  polling_engine = nullptr;
  lock.lock();
  in_source_ = false;
  for (const completion& c : batch.items()) queue_.push(c);
  batch.clear();
  source_.poll_delivered();
  polling_ = false;
  poll_budget_ = static_cast<std::ptrdiff_t>(queue_.size());
  // After close, waiters that saw a poll in progress wait for its packets.
  wake_set ws = closed_ ? wake_all_locked(self) : release_waiters_locked(self);
  if (borrowed) {
    // Hand the role to a waiter that arrived meanwhile, if any.
    const wake_set promoted = promote_poller_locked();
    if (promoted.waiters != nullptr) {
      promoted.waiters->next_to_wake = ws.waiters;
      ws.waiters = promoted.waiters;
    }
  }
  signal_unlocked(lock, ws);
}

void completion_engine::associate_thread() noexcept {
  // A thread waits on one port at a time, as with IOCP.
  this_thread.leave();
  link_->refs.fetch_add(1, std::memory_order_relaxed);
  this_thread.link = link_;
  this_thread.active = false;
}

bool completion_engine::caller_is_active() const noexcept {
  return this_thread.link == link_ && this_thread.active;
}

bool completion_engine::rejoin_thread() noexcept {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  ++active_;
  return true;
}

void completion_engine::detach_thread(bool was_active) noexcept {
  if (!was_active) return;
  source_.thread_left();
  wake_set ws;
  {
    std::lock_guard lock(mutex_);
    --active_;
    ws = release_waiters_locked(nullptr);
  }
  signal(ws);
}

std::error_code completion_engine::wait(std::span<completion> out, std::size_t& count,
                                        timeout t) noexcept {
  count = 0;
  if (this_thread.link != link_) associate_thread();
  // A thread blocked here keeps the backend alive (the port may be destroyed
  // meanwhile: its close wakes the thread, which then leaves). Released last,
  // after the lock: it may destroy *this.
  struct keep_alive {
    port_backend* owner = nullptr;
    ~keep_alive() {
      if (owner != nullptr) owner->release();
    }
  } keep;
  const bool forever = t >= longest_finite_timeout;
  // Read the clock only once the queue turned out empty: a wait that finds a
  // packet never needs the time.
  clock::time_point deadline = clock::time_point::max();
  bool deadline_known = forever;
  const auto expired = [&] {
    if (forever) return false;
    if (t == timeout::zero()) return true;
    if (!deadline_known) {
      deadline = clock::now() + t;
      deadline_known = true;
    }
    return clock::now() >= deadline;
  };

  std::unique_lock lock(mutex_);
  if (this_thread.active) {
    // Back in wait: no longer active. If packets queue, this thread takes the
    // next one itself (it is the most recent waiter), without blocking.
    --active_;
    this_thread.active = false;
  }
  // Waiting inside a blocking_scope: what it gets decides whether it is
  // active, not the end of the scope.
  this_thread.left_to_block = false;

  for (;;) {
    if (can_take_locked()) {
      // Fairness: when nobody watches the kernel, look at it (without
      // blocking) once per pass through the queue, as if the poll were a
      // packet at its tail.
      if (!closed_ && poll_budget_ <= 0 && !polling_ && !poller_present_ &&
          source_.has_pending_io()) {
        poll_once(lock, 0, nullptr);
        continue;
      }
      count = take_locked(out);
      this_thread.active = true;
      if (top_ != nullptr) signal_unlocked(lock, release_waiters_locked(nullptr));
      return {};
    }
    if (closed_ && !polling_) return make_error_code(error::port_closed);
    if (expired()) {
      // Time is up (or a zero timeout): one last non-blocking look at the
      // kernel if nobody else is watching it.
      if (!closed_ && !polling_ && !poller_present_ && source_.has_pending_io()) {
        poll_once(lock, 0, nullptr);
        if (can_take_locked()) continue;
      }
      return make_error_code(error::timed_out);
    }

    // Block: as the poller if nobody watches the kernel, else on our semaphore.
    if (keep.owner == nullptr) {
      owner_.add_ref();
      keep.owner = &owner_;
    }
    waiter w(out);
    push_waiter_locked(w);
    if (!closed_ && !poller_present_) {
      poller_present_ = true;
      w.poller = true;
    }
    bool timed_out = false;
    while (w.on_stack && !timed_out) {
      if (w.poller && !closed_) {
        poll_once(lock, milliseconds_until(deadline), &w);
        timed_out = w.on_stack && expired();
      } else {
        lock.unlock();
        bool signalled = true;
        if (forever)
          w.signal.acquire();
        else
          signalled = w.signal.try_acquire_until(deadline);
        lock.lock();
        if (signalled)
          --w.owed;
        else
          timed_out = true;
      }
    }
    if (w.on_stack) remove_waiter_locked(w);
    wake_set ws;
    if (w.poller) ws = promote_poller_locked();
    const unsigned owed = w.owed;  // nobody signals a waiter that left the stack
    const std::size_t got = w.count;
    if (!ws.empty() || owed != 0) {
      lock.unlock();
      signal(ws);
      for (unsigned i = 0; i < owed; ++i) w.signal.acquire();
      lock.lock();
    }
    if (got != 0) {
      count = got;  // handed over by another thread, which counted us active
      this_thread.active = true;
      return {};
    }
    if (timed_out) return make_error_code(error::timed_out);
    // Woken by close (or our poll ended it): re-evaluate.
  }
}

void thread_blocks() noexcept {
  this_thread.block();
}

void thread_unblocks() noexcept {
  this_thread.unblock();
}

}  // namespace proact::detail
