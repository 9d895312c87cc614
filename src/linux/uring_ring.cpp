#include "linux/uring_ring.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "proact/error.hpp"

namespace proact::detail {
namespace {

class uring_unavailable_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "proact.io_uring"; }
  std::string message(int value) const override {
    std::string text = "io_uring backend unavailable: " + std::system_category().message(value);
    switch (value) {
      case EPERM:
      case EACCES:
        return text + " (see /proc/sys/kernel/io_uring_disabled, or a seccomp filter)";
      case ENOSYS:
        return text + " (needs Linux 5.11 or later with io_uring enabled)";
      case EOPNOTSUPP:
        return text + " (the kernel lacks an io_uring opcode proact needs)";
      default:
        return text;
    }
  }
  std::error_condition default_error_condition(int) const noexcept override {
    return make_error_condition(errc::backend_unavailable);
  }
};

// Features the backend depends on: no CQE is ever dropped (NODROP), data an
// SQE points to is consumed at submission (SUBMIT_STABLE), sockets wait in the
// kernel's poll machinery rather than in worker threads (FAST_POLL), and
// waits can carry a timeout without an extra SQE (EXT_ARG, Linux 5.11).
constexpr unsigned required_features =
    IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG;

constexpr int required_opcodes[] = {
    IORING_OP_ACCEPT,       IORING_OP_CONNECT, IORING_OP_RECV,     IORING_OP_SEND,
    IORING_OP_RECVMSG,      IORING_OP_SENDMSG, IORING_OP_READ,     IORING_OP_WRITE,
    IORING_OP_ASYNC_CANCEL, IORING_OP_NOP,     IORING_OP_POLL_ADD, IORING_OP_FSYNC,
};

}  // namespace

const std::error_category& uring_unavailable_category() noexcept {
  static const uring_unavailable_category_impl instance;
  return instance;
}

uring_ring::~uring_ring() {
  if (open_) io_uring_queue_exit(&ring_);
}

std::error_code uring_ring::open(unsigned entries, task_run mode) noexcept {
  io_uring_params params{};
  int r = -ENOMEM;
  // Cooperative task work, and the SQ flag that says some is pending (so
  // that a non-blocking reap knows to enter the kernel to run it).
  unsigned task_run_flags =
      mode == task_run::cooperative ? IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG : 0;
  // Linux before 5.12 charges rings to RLIMIT_MEMLOCK (64 KiB by default):
  // smaller rings work there, at the price of more overflow handling.
  while (entries >= 64 && (r == -ENOMEM || r == -EINVAL)) {
    params = io_uring_params{};
    // A roomy CQ: completions of every socket's pending operations plus
    // cancellations fit without going through the kernel's overflow list.
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | task_run_flags;
    params.cq_entries = entries * 4;
    r = io_uring_queue_init_params(entries, &ring_, &params);
    if (r == -EINVAL && task_run_flags != 0) {
      task_run_flags = 0;  // before Linux 5.19: the interrupting default
    } else if (r == -ENOMEM) {
      entries /= 4;
    } else {
      break;
    }
  }
  if (r < 0) return uring_unavailable(-r);
  open_ = true;
  if ((params.features & required_features) != required_features) return uring_unavailable(ENOSYS);

  io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
  if (probe == nullptr) return uring_unavailable(ENOSYS);
  bool complete = true;
  for (const int op : required_opcodes) complete = complete && io_uring_opcode_supported(probe, op);
  io_uring_free_probe(probe);
  if (!complete) return uring_unavailable(EOPNOTSUPP);
  return {};
}

// ---- submission ------------------------------------------------------------------

io_uring_sqe* uring_ring::next_sqe_locked() noexcept {
  if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
  // The SQ is full of published entries: let the kernel take them (a
  // non-blocking enter), then there is room.
  (void)enter(unsubmitted(), 0, 0, nullptr, 0);
  return io_uring_get_sqe(&ring_);
}

unsigned uring_ring::publish_locked() noexcept {
  // What io_uring_submit does before entering the kernel, done here so that
  // the enter itself can run outside the SQ lock. liburing maps SQ slot i to
  // SQE i once at setup, so moving the tail is all it takes.
  const unsigned tail = ring_.sq.sqe_tail;
  ring_.sq.sqe_head = tail;
  __atomic_store_n(ring_.sq.ktail, tail, __ATOMIC_RELEASE);
  return tail;
}

unsigned uring_ring::unsubmitted() const noexcept {
  return __atomic_load_n(ring_.sq.ktail, __ATOMIC_ACQUIRE) -
         __atomic_load_n(ring_.sq.khead, __ATOMIC_ACQUIRE);
}

void uring_ring::submit_through(unsigned position) noexcept {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const unsigned head = __atomic_load_n(ring_.sq.khead, __ATOMIC_ACQUIRE);
    if (static_cast<int>(head - position) >= 0) return;  // consumed (maybe by another thread)
    const int r = enter(unsubmitted(), 0, 0, nullptr, 0);
    if (r == -EAGAIN || r == -EBUSY) {
      ::sched_yield();  // short of resources until CQEs are reaped
    } else if (r < 0 && r != -EINTR) {
      return;  // systemic failure: the SQEs stay published for the next enter
    }
  }
}

void uring_ring::submit_published() noexcept {
  submit_through(__atomic_load_n(ring_.sq.ktail, __ATOMIC_ACQUIRE));
}

int uring_ring::enter(unsigned to_submit, unsigned min_complete, unsigned flags, void* arg,
                      std::size_t arg_size) noexcept {
  // The raw system call: liburing's wrappers would also flush the SQ, which
  // must only happen under the SQ lock.
  const long r =
      ::syscall(__NR_io_uring_enter, ring_.ring_fd, to_submit, min_complete, flags, arg, arg_size);
  return r < 0 ? -errno : static_cast<int>(r);
}

// ---- completion ------------------------------------------------------------------

bool uring_ring::cq_needs_enter() const noexcept {
  // Completions parked in the kernel's overflow list, or waiting for task
  // work that cooperative mode left to this thread's next kernel entry, only
  // reach the CQ through an enter with GETEVENTS.
  return (__atomic_load_n(ring_.sq.kflags, __ATOMIC_RELAXED) &
          (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
}

void uring_ring::submit_and_wait(int timeout_ms) noexcept {
  if (timeout_ms == 0 || io_uring_cq_ready(&ring_) != 0) {
    // Does not block: what a push deferred after this count is submitted by
    // the wait its pusher makes next.
    const unsigned to_submit = unsubmitted();
    const bool flush = cq_needs_enter();
    if (to_submit != 0 || flush)
      (void)enter(to_submit, 0, flush ? IORING_ENTER_GETEVENTS : 0, nullptr, _NSIG / 8);
    return;
  }
  unsigned to_submit = 0;
  {
    // From here on nothing is deferred to a later wait: a push either comes
    // before this count (this enter submits it) or sees the flag (and
    // submits itself).
    std::lock_guard lock(sq_lock_);
    to_submit = unsubmitted();
    kernel_waiter_.store(true, std::memory_order_relaxed);
  }
  if (timeout_ms < 0) {
    (void)enter(to_submit, 1, IORING_ENTER_GETEVENTS, nullptr, _NSIG / 8);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
    io_uring_getevents_arg arg{};
    arg.sigmask_sz = _NSIG / 8;
    arg.ts = reinterpret_cast<std::uint64_t>(&ts);
    // -ETIME on timeout, -EINTR on a signal: either way the caller reaps what
    // is there and returns.
    (void)enter(to_submit, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
  }
  kernel_waiter_.store(false, std::memory_order_release);
}

bool uring_ring::submit_pending() noexcept {
  const unsigned to_submit = unsubmitted();
  const bool flush = cq_needs_enter();
  if (to_submit != 0 || flush)
    (void)enter(to_submit, 0, flush ? IORING_ENTER_GETEVENTS : 0, nullptr, _NSIG / 8);
  return io_uring_cq_ready(&ring_) != 0;
}

unsigned uring_ring::reap(uring_cqe* out, unsigned max) noexcept {
  unsigned n = 0;
  unsigned head;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    if (n == max) break;
    annotate_reaped(cqe->user_data);
    out[n++] = uring_cqe{cqe->user_data, cqe->res, cqe->flags};
  }
  io_uring_cq_advance(&ring_, n);
  return n;
}

}  // namespace proact::detail
