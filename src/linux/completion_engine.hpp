// completion_engine: the completion-port queue for backends whose kernel
// interface does not provide one with IOCP's thread semantics (epoll, and
// io_uring whose CQ has no LIFO release or concurrency limit).
//
// It provides, in one place:
//  - the FIFO queue of completion packets;
//  - the waiting threads, released last-in-first-out, each handed its packets
//    directly into the span it passed to wait();
//  - the concurrency value: a thread is active from the moment wait() hands it
//    packets until it calls wait() again, waits on another port, or exits;
//    packets are released only while fewer than `concurrency` threads are
//    active;
//  - leader/follower driving of the kernel: one of the waiting threads (the
//    poller) blocks in the event source, the others on their own semaphore.
//    There is no dedicated poller thread.
//  - close: every waiter wakes, queued packets stay dequeuable, then
//    port_closed.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <system_error>
#include <type_traits>
#include <vector>

#include "common/word_mutex.hpp"
#include "proact/operation.hpp"
#include "proact/port.hpp"

namespace proact::detail {

class completion_engine;
class port_backend;
struct engine_link;

// Collects completions produced while processing kernel events and hands them
// to the engine in batches (one lock round per batch, not per completion).
class completion_batch {
 public:
  explicit completion_batch(completion_engine& engine) noexcept : engine_(engine) {}
  completion_batch(const completion_batch&) = delete;
  completion_batch& operator=(const completion_batch&) = delete;
  ~completion_batch() { flush(); }

  void push(const completion& c) noexcept;
  void flush() noexcept;
  bool empty() const noexcept { return size_ == 0; }
  std::span<const completion> items() const noexcept { return {&items_[0].value, size_}; }
  void clear() noexcept { size_ = 0; }

 private:
  static constexpr std::size_t capacity = 64;
  // Left uninitialized: a batch lives on the stack of every poll.
  union slot {
    slot() noexcept {}  // NOLINT(modernize-use-equals-default): must not initialize
    completion value;
  };
  static_assert(std::is_trivially_copyable_v<completion> &&
                std::is_trivially_destructible_v<completion>);

  completion_engine& engine_;
  std::size_t size_ = 0;
  slot items_[capacity];
};

// What the engine needs from a backend's kernel interface.
class event_source {
 public:
  // Waits up to timeout_ms (-1 = forever, 0 = don't block) for kernel events
  // and pushes the completions they produce. Called by one thread at a time.
  virtual void poll_events(int timeout_ms, completion_batch& out) noexcept = 0;
  // Makes a concurrent poll_events() return soon. Called from any thread.
  virtual void interrupt() noexcept = 0;
  // Whether any operation waits on the kernel (so polling can find something).
  virtual bool has_pending_io() const noexcept = 0;
  // The completions of the last poll_events() are in the port queue now
  // (called under the engine's lock). A source that lets other threads reap
  // between polls hands its kernel queue on here, so that what they deliver
  // cannot overtake what this poll produced.
  virtual void poll_delivered() noexcept {}
  // A thread that was active on the engine (caller_is_active()) leaves it:
  // it waits on another port, or exits. Kernel work the source deferred to
  // that thread's next wait must be done now.
  virtual void thread_left() noexcept {}

 protected:
  ~event_source() = default;
};

class completion_engine {
 public:
  // `owner` is kept alive (add_ref) by every thread blocked in wait().
  completion_engine(port_backend& owner, event_source& source, unsigned concurrency);
  completion_engine(const completion_engine&) = delete;
  completion_engine& operator=(const completion_engine&) = delete;
  ~completion_engine();

  unsigned concurrency() const noexcept { return concurrency_; }

  // Queues completions (FIFO) and releases waiting threads as allowed.
  void deliver(std::span<const completion> items) noexcept;
  // post(): like deliver, but refused once the port is closed.
  std::error_code post(const completion& c) noexcept;

  std::error_code wait(std::span<completion> out, std::size_t& count, timeout t) noexcept;

  // Refuses further posts and wakes every waiter. Call after the backend has
  // delivered the cancellations of its pending operations.
  void close() noexcept;
  bool closed() const noexcept;

  // Whether the calling thread dequeued from this engine and has not come
  // back to wait() yet: it will wait (and so drive the event source) again
  // soon, which lets a source defer kernel work to that wait.
  bool caller_is_active() const noexcept;

  // A thread associated with this engine leaves it (exits or moves to
  // another port), or blocks elsewhere (thread_blocks), before the engine
  // was closed.
  void detach_thread(bool was_active) noexcept;
  // A thread that blocked while active counts as active again (it may run
  // beyond the concurrency value for a while, as a thread that wakes does on
  // Windows); false once the engine is closed.
  bool rejoin_thread() noexcept;

 private:
  struct waiter;
  struct wake_set;
  class ring {
   public:
    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    void push(const completion& c);
    std::size_t pop(completion* out, std::size_t max) noexcept;

   private:
    void grow();

    // A power of two, so that positions wrap with a mask (no division).
    std::vector<completion> slots_ = std::vector<completion>(1024);
    std::size_t mask_ = 1023;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
  };

  // All below require mutex_ held.
  bool can_take_locked() const noexcept;
  std::size_t take_locked(std::span<completion> out) noexcept;
  void push_waiter_locked(waiter& w) noexcept;
  void remove_waiter_locked(waiter& w) noexcept;
  void schedule_wake_locked(waiter& w, waiter* self, wake_set& ws) noexcept;
  // Hands queued packets to waiting threads (most recent first); returns who
  // to wake once the mutex is released. `self` is the calling waiter, if any.
  wake_set release_waiters_locked(waiter* self) noexcept;
  wake_set wake_all_locked(waiter* self) noexcept;
  wake_set promote_poller_locked() noexcept;
  void signal(const wake_set& ws) noexcept;
  void signal_unlocked(std::unique_lock<word_mutex>& lock, const wake_set& ws) noexcept;
  void poll_once(std::unique_lock<word_mutex>& lock, int timeout_ms, waiter* self) noexcept;
  void associate_thread() noexcept;

  port_backend& owner_;
  event_source& source_;
  const unsigned concurrency_;
  engine_link* const link_;  // what threads associated with the engine hold

  mutable word_mutex mutex_;
  ring queue_;
  waiter* top_ = nullptr;  // most recent waiter (LIFO stack)
  unsigned active_ = 0;    // threads handed packets and not yet back
  bool closed_ = false;
  bool poller_present_ = false;     // a waiter holds the poller role
  bool polling_ = false;            // a thread is inside poll_events (or delivering)
  bool in_source_ = false;          // ... and may be blocked there
  bool interrupted_ = false;        // interrupt() already sent for this poll
  std::ptrdiff_t poll_budget_ = 0;  // dequeues left before a fairness poll
};

}  // namespace proact::detail
