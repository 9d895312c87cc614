// uring_ring: one io_uring shared by every thread of a port.
//
// Submission side (any thread): SQEs are prepared and published under a short
// SQ lock; the io_uring_enter that hands them to the kernel happens outside
// it, and covers every SQE published so far, whoever published it (so the
// submissions of concurrent threads batch into one enter). A published SQE
// may also be left for the next wait's enter (to_submit with GETEVENTS, as a
// hand-written loop does): push() says when that is safe, i.e. when no thread
// is blocked (or about to block) in the kernel waiting for this ring.
// Completion side (one thread at a time, the caller's duty): wait for CQEs and
// reap them in batches.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <system_error>

#if defined(__SANITIZE_THREAD__)
#define PROACT_URING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PROACT_URING_TSAN 1
#endif
#endif
#if defined(PROACT_URING_TSAN)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace proact::detail {

// ThreadSanitizer cannot see that the kernel orders what a thread did before
// submitting an SQE before the thread that reaps its CQE: the SQE's
// user_data (when it is an address) stands for that edge.
inline void annotate_submitted(std::uint64_t user_data) noexcept {
#if defined(PROACT_URING_TSAN)
  if (user_data >= 4096) __tsan_release(reinterpret_cast<void*>(user_data));
#else
  (void)user_data;
#endif
}
inline void annotate_reaped(std::uint64_t user_data) noexcept {
#if defined(PROACT_URING_TSAN)
  if (user_data >= 4096) __tsan_acquire(reinterpret_cast<void*>(user_data));
#else
  (void)user_data;
#endif
}

// "io_uring cannot run here": the value is the errno that says why (EPERM for
// the io_uring_disabled sysctl or seccomp, ENOSYS for an old kernel, ...),
// and the code compares equal to proact::errc::backend_unavailable.
const std::error_category& uring_unavailable_category() noexcept;
inline std::error_code uring_unavailable(int errno_value) noexcept {
  return {errno_value, uring_unavailable_category()};
}

// A reaped completion, copied out of the CQ so the slot is free at once.
struct uring_cqe {
  std::uint64_t user_data;
  std::int32_t res;
  std::uint32_t flags;
};

class uring_ring {
 public:
  uring_ring() noexcept = default;
  uring_ring(const uring_ring&) = delete;
  uring_ring& operator=(const uring_ring&) = delete;
  ~uring_ring();

  // How the kernel tells a submitting thread that completion work is due.
  enum class task_run {
    // An interrupt (IPI) to a thread running in user space: prompt from
    // any thread, costly.
    interrupting,
    // No interrupt: a thread runs the work at its next entry into the
    // kernel (a system call, or the timer tick's interrupt); a sleeping thread
    // is woken. Where one thread makes the ring's system calls, that entry
    // is its next wait. Falls back to `interrupting` on kernels before 5.19.
    cooperative,
  };

  // Sets up a ring of `entries` SQEs and checks every feature and opcode the
  // backend relies on; errors are uring_unavailable(errno).
  std::error_code open(unsigned entries, task_run mode = task_run::interrupting) noexcept;

  // For registrations (provided-buffer rings), which the kernel serializes
  // with submissions itself.
  io_uring& native() noexcept { return ring_; }

  // ---- submission: any thread ----

  // Fills one SQE with `prep(sqe)` and publishes it. On success `position`
  // identifies it for submit_through(). False if the SQ stays full even after
  // submitting what it holds.
  template <class Prep>
  bool push(Prep&& prep, unsigned& position) noexcept {
    bool deferred = false;
    return push(static_cast<Prep&&>(prep), position, false, deferred);
  }

  // The same; with `may_defer` (the caller knows that a wait on this ring
  // follows soon), `deferred` says whether the SQE may be left to that wait's
  // enter instead of submit_through(): it may unless a thread is blocked, or
  // about to block, in the kernel waiting for this ring. Decided under the SQ
  // lock, which the waiter holds while it counts what its enter submits, so
  // a deferred SQE is always among those of the next wait's enter.
  template <class Prep>
  bool push(Prep&& prep, unsigned& position, bool may_defer, bool& deferred) noexcept {
    std::lock_guard lock(sq_lock_);
    io_uring_sqe* sqe = next_sqe_locked();
    if (sqe == nullptr) return false;
    prep(sqe);
    annotate_submitted(sqe->user_data);
    position = publish_locked();
    deferred = may_defer && !kernel_waiter_.load(std::memory_order_relaxed);
    return true;
  }

  // Returns once the kernel has consumed the SQEs up to `position`: one
  // io_uring_enter, unless another thread's enter already took them.
  void submit_through(unsigned position) noexcept;
  // submit_through() of every SQE published so far.
  void submit_published() noexcept;

  // ---- completion: one thread at a time ----

  // Submits what is published (deferred SQEs included), then waits up to
  // timeout_ms (-1: no limit, 0: not at all) for at least one CQE. One
  // io_uring_enter; while it may block, push() defers nothing.
  void submit_and_wait(int timeout_ms) noexcept;
  // Submits what is published without waiting; true if CQEs are ready.
  bool submit_pending() noexcept;
  // Copies up to `max` ready CQEs into `out` and frees their slots.
  unsigned reap(uring_cqe* out, unsigned max) noexcept;

 private:
  io_uring_sqe* next_sqe_locked() noexcept;
  unsigned publish_locked() noexcept;
  unsigned unsubmitted() const noexcept;
  bool cq_needs_enter() const noexcept;
  int enter(unsigned to_submit, unsigned min_complete, unsigned flags, void* arg,
            std::size_t arg_size) noexcept;

  io_uring ring_{};
  bool open_ = false;
  std::mutex sq_lock_;  // guards the SQE slots and liburing's SQ bookkeeping
  // A thread is (or is about to be) blocked in io_uring_enter(GETEVENTS):
  // set under sq_lock_ together with the count its enter submits; cleared
  // without it (a stale `true` only makes a push submit at once).
  std::atomic<bool> kernel_waiter_{false};
};

}  // namespace proact::detail
