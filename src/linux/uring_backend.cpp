#include "linux/uring_backend.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>

#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "linux/linux_backend.hpp"
#include "linux/linux_handle.hpp"
#include "linux/nonblocking_io.hpp"
#include "linux/uring_ops.hpp"
#include "linux/uring_pool.hpp"
#include "linux/uring_ring.hpp"
#include "proact/error.hpp"

namespace proact::detail {
namespace {

// user_data: an operation's address (16-byte aligned), a cancel_request's
// address with request_tag set, a handle's address with handle_cancel_tag
// set, or wake_tag.
constexpr std::uint64_t tag_bits = 7;
constexpr std::uint64_t request_tag = 1;        // an ASYNC_CANCEL a cancel() call waits for
constexpr std::uint64_t wake_tag = 2;           // the eventfd read that interrupt() completes
constexpr std::uint64_t handle_cancel_tag = 4;  // an ASYNC_CANCEL nobody waits for (close)
static_assert(alignof(uring_handle) > tag_bits && alignof(cancel_request) > tag_bits);

constexpr unsigned ring_entries = 1024;

// The wake read's target. It is never read; it is static because the kernel
// may still complete that read while a backend is being torn down.
alignas(8) std::uint64_t wake_sink;

// SQEs published by one call, which the call submits before it returns
// (`needed`), up to the ring position of the last one.
struct submission {
  unsigned position = 0;
  bool needed = false;
};

// When an operation's SQE may go to the kernel: before the call returns, or
// with the starting thread's next wait (see start()).
enum class sqe_timing { now, may_wait_for_next_wait };

// Why an operation becomes the active one of its queue: its own start call,
// or the end of the operation ahead of it.
enum class activation { start_call, turn };

// How making an operation the active one of its queue went.
enum class begun { pending, done, no_sqe };

class uring_backend final : public linux_backend {
 public:
  explicit uring_backend(unsigned concurrency) noexcept
      : linux_backend(concurrency, sizeof(uring_handle)) {}

  ~uring_backend() override {
    if (wakefd_ >= 0) ::close(wakefd_);
  }

  std::error_code init() noexcept;

  backend_kind kind() const noexcept override { return backend_kind::io_uring; }
  std::error_code associate(native_handle_type fd, handle_kind kind, address_family family,
                            std::uintptr_t key, io_handle*& out) override {
    // Nothing to register with the kernel: each SQE names the descriptor.
    return add_handle<uring_handle>(fd, kind, family, key, out,
                                    [](uring_handle&) { return std::error_code{}; });
  }
  std::error_code start(io_handle& h, operation& op, const endpoint* remote) override;
  std::error_code cancel(io_handle& h, operation* op) override;
  std::error_code close_handle(io_handle& h) override;
  void release_handle(io_handle& h) noexcept override;
  void close() noexcept override;
  std::error_code adopt_pool(pool_state& pool) override;
  void forget_pool(pool_state& pool) noexcept override;

 private:
  // event_source
  void poll_events(int timeout_ms, completion_batch& out) noexcept override;
  void interrupt() noexcept override { signal_eventfd(wakefd_); }
  void poll_delivered() noexcept override { release_cq(); }
  // A thread that may have deferred SQEs to its next wait on this port will
  // not wait here next (it waits on another port, or exits): submit them.
  void thread_left() noexcept override { ring_.submit_published(); }

  // All take the handle's lock held.
  // Publishes op's SQE, into `sub` unless it was left for the next wait.
  bool issue(uring_handle& s, operation& op, submission& sub,
             sqe_timing timing = sqe_timing::now) noexcept;
  bool may_continue(const uring_handle& s, const uring_op& st) const noexcept {
    return !st.cancel_requested && s.open.load(std::memory_order_relaxed) && !closed();
  }
  std::error_code start_socket_op(uring_handle& s, operation& op, sqe_timing timing,
                                  submission& sub, bool& behind) noexcept;
  begun begin(uring_handle& s, operation& op, activation why, sqe_timing timing, io_result& result,
              submission& sub) noexcept;
  io_status disconnect_step(uring_handle& s, operation& op, io_result& r, submission& sub) noexcept;
  outcome interpret(uring_handle& s, operation& op, int res, std::uint32_t flags, io_result& result,
                    submission& sub) noexcept;
  void finish(uring_handle& s, operation& op, op_queue& q, io_result result,
              completion_batch& out) noexcept;
  void advance(uring_handle& s, op_queue& q, completion_batch& out) noexcept;
  void retired(uring_handle& s, const operation& op) noexcept;
  bool request_cancel(uring_handle& s, op_queue& q, operation& op, cancel_request* req,
                      submission& sub) noexcept;
  std::size_t request_cancel_all(uring_handle& s, op_queue& q, cancel_request* head_req,
                                 submission& sub) noexcept;
  bool push_cancel(uring_handle& s, operation& op, cancel_request* req, submission& sub) noexcept;
  static bool cancel_missed(const uring_handle& s, operation& op, int res) noexcept;
  void finish_now(uring_handle& s, operation& op, op_queue& q) noexcept;

  // A file's operations are all in the kernel at once: each is cancelled on
  // its own, the answers awaited in batches.
  std::error_code cancel_file(uring_handle& s, operation* op);

  // Without any lock held: until the kernel answered each ASYNC_CANCEL.
  void await_answers(const cancel_request* reqs, std::size_t n) noexcept;

  // The completion side: one thread at a time holds the CQ.
  void reap(int timeout_ms, completion_batch& out) noexcept;
  void dispatch(const uring_cqe& cqe, completion_batch& out) noexcept;
  void on_operation_cqe(operation& op, int res, std::uint32_t flags,
                        completion_batch& out) noexcept;
  void on_cancel_cqe(cancel_request& req, int res) noexcept;
  void on_handle_cancel_cqe(uring_handle& s, int res) noexcept;
  void arm_wake() noexcept;
  void acquire_cq_to_poll() noexcept;
  void acquire_cq_to_drain() noexcept;
  void release_cq() noexcept;
  void reap_if_idle() noexcept;
  void drain() noexcept;

  void destroy(uring_handle& s) noexcept;

  uring_ring ring_;
  int wakefd_ = -1;
  bool wake_armed_ = false;                    // under the CQ role
  std::atomic<std::size_t> in_kernel_ops_{0};  // SQEs sent whose CQE is outstanding

  // The CQ role: held by the poller until its completions are in the port
  // queue, by close() while it drains, or by a cancel() reaping its answer.
  std::mutex cq_lock_;
  std::condition_variable cq_free_;
  bool cq_busy_ = false;
  bool drain_waiting_ = false;

  std::mutex pools_lock_;
  std::uint16_t next_group_ = 0;  // buffer group of the next provided-buffer ring
};

std::error_code uring_backend::init() noexcept {
  // A port that runs one thread's completions at a time is nearly always
  // driven by that one thread, whose next wait is its next kernel entry:
  // completion work need not interrupt it. With several threads, work due to
  // a thread busy in a callback would wait for its next system call or
  // timer tick, so there the kernel interrupts.
  const auto mode =
      concurrency() == 1 ? uring_ring::task_run::cooperative : uring_ring::task_run::interrupting;
  if (std::error_code ec = ring_.open(ring_entries, mode)) return ec;
  // Blocking on purpose: io_uring waits for a blocking file with its poll
  // machinery, whereas a read of an O_NONBLOCK file fails with -EAGAIN.
  wakefd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wakefd_ < 0) return native_error(errno);
  arm_wake();
  if (!wake_armed_) return native_error(ENOBUFS);
  (void)ring_.submit_pending();
  return {};
}

// ---- handles -------------------------------------------------------------------------

// Nothing refers to s any more: its storage goes back to the registry.
void uring_backend::destroy(uring_handle& s) noexcept {
  s.~uring_handle();
  {
    std::lock_guard registry(registry_.lock());
    registry_.give_storage_locked(&s);
  }
  release();  // the handle's reference; may destroy *this
}

std::error_code uring_backend::close_handle(io_handle& h) {
  auto& s = static_cast<uring_handle&>(h);
  submission sub;
  {
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    s.open.store(false, std::memory_order_release);
    // The heads are cancelled in the kernel; the operations queued behind
    // them are aborted, in order, when the heads' CQEs arrive.
    request_cancel_all(s, s.input, nullptr, sub);
    request_cancel_all(s, s.output, nullptr, sub);
    // An SQE of this handle may still be published only (deferred).
    sub.needed = sub.needed || s.in_kernel != 0;
  }
  // Every SQE naming this descriptor is consumed before the number is given
  // up (it may name another socket a moment later). Without operations in
  // the kernel there is no such SQE.
  if (sub.needed) ring_.submit_published();
  (void)sys::close(s.fd);
  registry_.remove(s);
  return {};
}

void uring_backend::release_handle(io_handle& h) noexcept {
  auto& s = static_cast<uring_handle&>(h);
  if (s.open.load(std::memory_order_acquire)) (void)close_handle(s);
  bool free_now = false;
  {
    // CQEs still on their way refer to the handle: the last one frees it.
    std::lock_guard lock(s.lock);
    s.released = true;
    free_now = s.in_kernel == 0;
  }
  if (free_now) destroy(s);
}

// ---- operations ------------------------------------------------------------------------

std::error_code uring_backend::start(io_handle& h, operation& op, const endpoint* remote) {
  auto& s = static_cast<uring_handle&>(h);
  const op_kind kind = op_access::kind(op);
  uring_op& st = op_access::construct_backend<uring_op>(op);
  st.handle = &s;
  if (kind == op_kind::connect) {
    // Copied: the caller's endpoint need not outlive the start call.
    std::memcpy(st.address, remote->data(), remote->size());
    st.address_size = static_cast<socklen_t>(remote->size());
  }
  if (kind == op_kind::read_at || kind == op_kind::write_at) {
    // pread/pwrite take a signed offset, and io_uring reads an offset of
    // -1 as "the file position": beyond the signed range, the answer pwrite
    // would give.
    const std::uint64_t size = op_access::buffers(op)[0].size;
    if (op_access::offset(op) > std::uint64_t{std::numeric_limits<std::int64_t>::max()} - size) {
      st.has_stash = true;
      st.stashed = native_error(EINVAL);
    }
  }

  // A thread that dequeued from this port and has not come back to wait
  // will wait on it soon, and that wait's enter submits what is published:
  // its SQE is left there (as a hand-written loop submits with its wait)
  // unless a thread is blocked in the kernel already, which would not see it.
  const sqe_timing timing =
      engine_.caller_is_active() ? sqe_timing::may_wait_for_next_wait : sqe_timing::now;
  submission sub;
  std::error_code ec;
  bool behind = false;  // queued behind an operation of the same direction
  {
    std::lock_guard lock(s.lock);
    ec = start_refusal(s, kind, closed());
    if (!ec && s.is_file()) ec = take_descriptor(s, op);
    if (!ec && s.is_file()) {
      // No order among a file's operations: each goes to the kernel now
      // (never completed at start, even with skip_completion_on_success).
      if (issue(s, op, sub, timing)) {
        s.queue_for(kind).push(op);
        operation_pending();
      } else {
        drop_descriptor(op);
        ec = native_error(ENOBUFS);
      }
    } else if (!ec) {
      ec = start_socket_op(s, op, timing, sub, behind);
    }
  }
  // Submitted before returning, as IOCP starts an operation in the call: a
  // send's bytes are on their way even if nobody waits on the port. Or
  // deferred: then the same holds once this thread waits, or moves to
  // another port, or exits (thread_left).
  if (sub.needed) ring_.submit_through(sub.position);
  // The operations ahead of it may have completed already, their CQEs
  // waiting for a thread to reap them; this one becomes active when they are
  // handled. Without a thread waiting on the port that would not happen, and
  // an IOCP would carry on: reap now, if nobody else holds the CQ.
  if (behind) reap_if_idle();
  return ec;
}

// A socket's operation: behind a pending one of the same direction it waits
// its turn (per-socket order); otherwise it becomes the active one now.
std::error_code uring_backend::start_socket_op(uring_handle& s, operation& op, sqe_timing timing,
                                               submission& sub, bool& behind) noexcept {
  const op_kind kind = op_access::kind(op);
  if (kind == op_kind::connect) {
    if (std::error_code ec = connect_refusal(s)) return ec;
  }
  if (io_result r; ends_at_start(s, op, r)) {
    return finish_at_start(s, op, r);
  }
  op_queue& q = s.queue_for(kind);
  if (q.empty()) {
    io_result result;
    switch (begin(s, op, activation::start_call, timing, result, sub)) {
      case begun::pending:
        if (kind == op_kind::connect) s.connection.connect_started();
        break;
      case begun::done:
        // skip_completion_on_success: the outcome goes back to the caller
        // and no packet is queued.
        return finish_at_start(s, op, result);
      case begun::no_sqe:
        return native_error(ENOBUFS);
    }
  }
  behind = !q.empty();
  q.push(op);
  operation_pending();
  return {};
}

// Makes `op` the active operation of its queue (it is, or is about to be,
// the head). Usually that is its SQE. An outcome the connection's state
// decides needs none; send_file and disconnect first do what io_uring has no
// opcode for (sendfile, shutdown + discard); with skip_completion_on_success
// a start call first tries the operation without the kernel's queue. `done`
// leaves `result` to deliver (or, in a start call, to return). A result
// known during a start call that must not be returned there is delivered
// through a NOP's CQE instead, so that it follows whatever this socket's
// earlier operations produced.
begun uring_backend::begin(uring_handle& s, operation& op, activation why, sqe_timing timing,
                           io_result& result, submission& sub) noexcept {
  uring_op& st = state_of(op);
  const bool at_start = why == activation::start_call;
  // Never a pooled recv whose buffer the kernel picks: no buffer to try with.
  const bool speculate = at_start && s.skip_on_success && !kernel_picks_buffer(op);
  io_result r;
  io_status status = io_status::would_block;
  if (decided_without_trying(s, op, r) || pool_empty_at_turn(op, r)) {
    status = io_status::done;
  } else {
    switch (op_access::kind(op)) {
      case op_kind::send_file:
        status = try_transfer(s, op, r);
        break;
      case op_kind::disconnect:
        status = disconnect_step(s, op, r, sub);
        break;
      default:
        if (speculate) status = try_transfer(s, op, r);
    }
  }
  if (status == io_status::done) {
    if (!at_start || speculate) {
      result = r;
      return begun::done;
    }
    st.has_stash = true;
    st.queued.done = r.bytes;
    st.stashed = r.error;
  }
  if (!issue(s, op, sub, at_start ? timing : sqe_timing::now)) return begun::no_sqe;
  return begun::pending;
}

// DisconnectEx semantics (linux_handle.hpp); the recv in the kernel is
// cancelled there, those behind it end right after it, in order.
io_status uring_backend::disconnect_step(uring_handle& s, operation& op, io_result& r,
                                         submission& sub) noexcept {
  return detail::disconnect_step(s, op, r, [&] { request_cancel_all(s, s.input, nullptr, sub); });
}

// Bookkeeping when an operation leaves its queue with its completion.
void uring_backend::retired(uring_handle& s, const operation& op) noexcept {
  operation_done();
  note_ended(s, op_access::kind(op));
}

bool uring_backend::issue(uring_handle& s, operation& op, submission& sub,
                          sqe_timing timing) noexcept {
  bool deferred = false;
  if (!ring_.push([&](io_uring_sqe* sqe) { prepare(s, op, sqe); }, sub.position,
                  timing == sqe_timing::may_wait_for_next_wait, deferred))
    return false;
  if (!deferred) sub.needed = true;
  state_of(op).in_kernel = true;
  ++s.in_kernel;
  in_kernel_ops_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Completes a queued operation that is not in the kernel, now.
void uring_backend::finish_now(uring_handle& s, operation& op, op_queue& q) noexcept {
  q.remove(op);
  retired(s, op);
  const completion c = completion_for(op, state_of(op).queued.done, aborted());
  engine_.deliver(std::span<const completion>(&c, 1));
  if (&q == &s.output) shutdown_if_output_done(s);
}

// Asks for the end of `op`, pending on s in q (handle lock held). In the
// kernel: an ASYNC_CANCEL, whose answer `req` (if any) waits for. Queued
// behind the head: aborted now, or right after an operation ahead of it whose
// end is on the way already (order kept).
bool uring_backend::request_cancel(uring_handle& s, op_queue& q, operation& op, cancel_request* req,
                                   submission& sub) noexcept {
  uring_op& st = state_of(op);
  if (!st.in_kernel) {
    if (cancel_ahead_of(q, op))
      st.cancel_requested = true;
    else
      finish_now(s, op, q);
    return true;
  }
  if (req != nullptr) {
    // Filled in before the SQE is published: another thread's enter may
    // submit it, and the CQ holder handle its CQE, at once.
    req->op = &op;
    req->handle = &s;
  }
  if (!push_cancel(s, op, req, sub)) return false;
  // Its CQE (aborted, or its own result if it won the race) ends it; the
  // handle lock, held here, keeps that CQE's handling after these lines.
  st.cancel_requested = true;
  if (req != nullptr) st.canceller = req;
  return true;
}

// The ASYNC_CANCEL for `op` (handle lock held). Its answer refers to the
// handle, which stays until it is handled: to `req`'s waiter, or, without
// one, to the handle's own count (on_handle_cancel_cqe).
bool uring_backend::push_cancel(uring_handle& s, operation& op, cancel_request* req,
                                submission& sub) noexcept {
  const std::uint64_t user_data = req != nullptr
                                      ? reinterpret_cast<std::uint64_t>(req) | request_tag
                                      : reinterpret_cast<std::uint64_t>(&s) | handle_cancel_tag;
  const bool queued = ring_.push(
      [&](io_uring_sqe* sqe) {
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op), 0);
        io_uring_sqe_set_data64(sqe, user_data);
      },
      sub.position);
  if (!queued) return false;
  sub.needed = true;
  if (req == nullptr) ++s.cancels_in_kernel;
  ++s.in_kernel;
  in_kernel_ops_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// -ENOENT for a socket operation whose CQE has not come: the kernel was
// moving it between its poll wait and an io-wq worker (seen with a send
// that would block after the peer's FIN, Linux 6.x), where no cancellation
// finds it; once there it blocks until it is cancelled. So it is asked
// again: the move is over by the time the answer is handled.
bool uring_backend::cancel_missed(const uring_handle& s, operation& op, int res) noexcept {
  return res == -ENOENT && !s.is_file() && state_of(op).in_kernel;
}

// Every pending operation of q not ended already; returns how many.
std::size_t uring_backend::request_cancel_all(uring_handle& s, op_queue& q,
                                              cancel_request* head_req, submission& sub) noexcept {
  std::size_t n = 0;
  q.for_each([&](operation& op) {
    uring_op& st = state_of(op);
    if (st.cancel_requested) return;
    if (st.in_kernel) {
      if (!request_cancel(s, q, op, head_req, sub)) return;
    } else {
      st.cancel_requested = true;  // the head's CQE aborts it, in order
    }
    ++n;
  });
  return n;
}

std::error_code uring_backend::cancel(io_handle& h, operation* op) {
  auto& s = static_cast<uring_handle&>(h);
  if (s.is_file()) return cancel_file(s, op);
  cancel_request reqs[2];  // the heads in the kernel: one per direction
  std::size_t n_reqs = 0;
  std::size_t ended_here = 0;  // operations that end aborted whatever the kernel says
  submission sub;
  {
    std::lock_guard lock(s.lock);
    if (op == nullptr) {
      for (op_queue* q : {&s.input, &s.output}) {
        operation* head = q->front();
        const bool head_asked =
            head != nullptr && state_of(*head).in_kernel && !state_of(*head).cancel_requested;
        const std::size_t n = request_cancel_all(s, *q, &reqs[n_reqs], sub);
        if (head_asked && state_of(*head).canceller == &reqs[n_reqs]) {
          ++n_reqs;
          ended_here += n - 1;
        } else {
          ended_here += n;
        }
      }
      if (n_reqs == 0 && ended_here == 0) return make_error_code(error::not_found);
    } else {
      op_queue* q = s.input.contains(*op) ? &s.input : s.output.contains(*op) ? &s.output : nullptr;
      // Not pending, or its end is on the way already: nothing to cancel.
      if (q == nullptr || state_of(*op).cancel_requested) return make_error_code(error::not_found);
      const bool in_kernel = state_of(*op).in_kernel;
      if (!request_cancel(s, *q, *op, &reqs[0], sub)) return native_error(ENOBUFS);
      if (in_kernel)
        n_reqs = 1;
      else
        ended_here = 1;
    }
  }
  if (sub.needed) ring_.submit_through(sub.position);
  if (n_reqs == 0) return {};
  await_answers(reqs, n_reqs);
  for (std::size_t i = 0; i < n_reqs; ++i)
    if (reqs[i].took_effect) ++ended_here;
  return ended_here != 0 ? std::error_code{} : make_error_code(error::not_found);
}

// File I/O that an io-wq worker performs already cannot be withdrawn: the
// kernel answers -EALREADY and it completes with its own result, so cancel
// reports not_found for it (as epoll's file pool does for a running job);
// one still waiting for its turn (queued in io-wq, or behind another write to
// the same file) is cancelled and completes with operation_aborted.
std::error_code uring_backend::cancel_file(uring_handle& s, operation* op) {
  constexpr std::size_t batch = 16;
  std::size_t took_effect = 0;
  std::size_t rounds = 0;  // enough for the operations there at the call
  for (bool first = true; first || rounds != 0; first = false, --rounds) {
    cancel_request reqs[batch];
    std::size_t n = 0;
    submission sub;
    {
      std::lock_guard lock(s.lock);
      std::size_t candidates = 0;
      for (op_queue* q : {&s.input, &s.output}) {
        q->for_each([&](operation& o) {
          const uring_op& st = state_of(o);
          if ((op != nullptr && &o != op) || st.cancel_requested || st.cancel_refused) return;
          ++candidates;
          if (n < batch && st.in_kernel && request_cancel(s, *q, o, &reqs[n], sub)) ++n;
        });
      }
      if (first) rounds = (candidates + batch - 1) / batch;
    }
    if (sub.needed) ring_.submit_through(sub.position);
    if (n == 0) break;
    await_answers(reqs, n);
    for (std::size_t i = 0; i < n; ++i)
      if (reqs[i].took_effect) ++took_effect;
  }
  return took_effect != 0 ? std::error_code{} : make_error_code(error::not_found);
}

// The ASYNC_CANCEL's CQE was posted while it ran (before submit_through
// returned): the CQ holder handles it soon, or this thread takes the CQ and
// does. What it reaps is delivered before the CQ is handed on.
void uring_backend::await_answers(const cancel_request* reqs, std::size_t n) noexcept {
  auto answered = [&] {
    for (std::size_t i = 0; i < n; ++i)
      if (!reqs[i].resolved) return false;
    return true;
  };
  std::unique_lock lock(cq_lock_);
  for (int attempt = 0;; ++attempt) {
    cq_free_.wait(lock, [&] { return answered() || !cq_busy_; });
    if (answered()) return;
    cq_busy_ = true;
    lock.unlock();
    {
      completion_batch out(engine_);
      reap(attempt == 0 ? 0 : 1, out);
    }
    lock.lock();
    cq_busy_ = false;
    cq_free_.notify_all();
  }
}

// ---- completions ---------------------------------------------------------------------

outcome uring_backend::interpret(uring_handle& s, operation& op, int res, std::uint32_t flags,
                                 io_result& result, submission& sub) noexcept {
  uring_op& st = state_of(op);
  if (res == -ECANCELED) {
    give_back_kernel_buffer(op, flags);
    if (!st.cancel_requested) {
      // Nobody asked for this: io_uring ties a request to the thread that
      // submitted it, and when that thread has exited it fails the
      // request's retry after a poll wakeup with -ECANCELED (observed on
      // Linux 6.x), or cancels its io-wq work (file I/O). Nothing was
      // transferred; issue it again from this thread.
      if (op_access::kind(op) == op_kind::connect)
        st.connect_poll = true;  // the connection attempt is under way
      return outcome::reissue;
    }
    result = io_result{st.queued.done, aborted()};  // the cancellation we asked for
    return outcome::complete;
  }
  if (st.has_stash) {  // a NOP carrying a result known already
    result = io_result{st.queued.done, st.stashed};
    return outcome::complete;
  }
  switch (op_access::kind(op)) {
    case op_kind::recv:
      if (kernel_picks_buffer(op)) return pooled_recv_outcome(op, res, flags, result);
      if (pool_of(op) != nullptr) {
        // The emulation's POLL_ADD reported readiness: the attempt, unless
        // its end was asked for.
        if (res == -EINTR || !may_continue(s, st)) return outcome::reissue;
        if (res < 0) {
          result = io_result{0, native_error(-res)};
          return outcome::complete;
        }
        input_probe probe;
        return try_recv_pooled(s.fd, op, result, probe) == io_status::would_block
                   ? outcome::reissue
                   : outcome::complete;
      }
      return recv_result(op, res, result);
    case op_kind::send:
      return send_result(op, res, result);
    case op_kind::accept:
      return accept_result(s, op, res, result);
    case op_kind::connect:
      // The descriptor is only used while the handle is open.
      if (!s.open.load(std::memory_order_relaxed) && res >= 0 && st.connect_poll) {
        result = io_result{0, aborted()};
        return outcome::complete;
      }
      return connect_result(s, op, res, result);
    case op_kind::recv_from:
      return recv_from_result(op, res, result);
    case op_kind::send_to:
      return send_to_result(res, result);
    case op_kind::read_at:
    case op_kind::write_at:
      return file_result(op, res, result);
    case op_kind::flush:
      return flush_result(res, result);
    case op_kind::send_file:
    case op_kind::disconnect: {
      // A POLL_ADD reported readiness: the next step, unless its end was
      // asked for (or the descriptor may be closed): then it ends aborted.
      if (res == -EINTR || !may_continue(s, st)) return outcome::reissue;
      if (res < 0) {
        result = io_result{st.queued.done, native_error(-res)};
        return outcome::complete;
      }
      const io_status status = op_access::kind(op) == op_kind::send_file
                                   ? try_transfer(s, op, result)
                                   : disconnect_step(s, op, result, sub);
      return status == io_status::would_block ? outcome::reissue : outcome::complete;
    }
    default:
      result = io_result{0, make_error_code(error::invalid_argument)};
      return outcome::complete;
  }
}

// `op` leaves its queue with `result` (popped before its completion can
// reach anyone: a socket's operation is its queue's head).
void uring_backend::finish(uring_handle& s, operation& op, op_queue& q, io_result result,
                           completion_batch& out) noexcept {
  uring_op& st = state_of(op);
  if (!s.is_file()) settle(s, op, result);
  drop_descriptor(op);
  if (cancel_request* req = st.canceller) {
    // The cancel() waiting for its answer learns how the operation ended.
    req->op_ended = true;
    req->took_effect = st.cancel_requested && result.error == aborted();
    st.canceller = nullptr;
  }
  if (s.is_file())
    q.remove(op);
  else
    q.pop();
  retired(s, op);
  out.push(completion_for(op, result.bytes, result.error));
  if (!s.is_file()) advance(s, q, out);
  if (&q == &s.output) shutdown_if_output_done(s);
}

void uring_backend::on_operation_cqe(operation& op, int res, std::uint32_t flags,
                                     completion_batch& out) noexcept {
  uring_op& st = state_of(op);
  uring_handle& s = *st.handle;
  bool free_handle = false;
  {
    std::lock_guard lock(s.lock);
    st.in_kernel = false;
    --s.in_kernel;
    in_kernel_ops_.fetch_sub(1, std::memory_order_relaxed);
    io_result result;
    submission sub;  // whatever this pushes goes with the rest of the poll's batch
    bool finished = interpret(s, op, res, flags, result, sub) == outcome::complete;
    if (!finished) {
      if (!may_continue(s, st)) {
        result = io_result{st.queued.done, aborted()};
        finished = true;
      } else if (!issue(s, op, sub)) {
        result = io_result{st.queued.done, native_error(ENOBUFS)};
        finished = true;
      }
    }
    if (finished) finish(s, op, s.queue_for(op_access::kind(op)), result, out);
    free_handle = s.released && s.in_kernel == 0;
  }
  if (free_handle) destroy(s);
}

// The head of q completed: make the next one active, or end the ones whose
// cancellation is pending (in start order).
void uring_backend::advance(uring_handle& s, op_queue& q, completion_batch& out) noexcept {
  while (operation* next = q.front()) {
    uring_op& st = state_of(*next);
    io_result result{st.queued.done, aborted()};
    if (may_continue(s, st)) {
      submission sub;  // submitted with the rest of the poll's batch
      const begun b = begin(s, *next, activation::turn, sqe_timing::now, result, sub);
      if (b == begun::pending) return;
      if (b == begun::no_sqe) result = io_result{st.queued.done, native_error(ENOBUFS)};
      settle(s, *next, result);
    }
    q.pop();
    retired(s, *next);
    out.push(completion_for(*next, result.bytes, result.error));
  }
}

void uring_backend::on_cancel_cqe(cancel_request& req, int res) noexcept {
  uring_handle& s = *req.handle;
  bool free_handle = false;
  {
    std::lock_guard lock(s.lock);
    --s.in_kernel;
    in_kernel_ops_.fetch_sub(1, std::memory_order_relaxed);
    if (!req.op_ended && cancel_missed(s, *req.op, res)) {
      submission sub;  // submitted with the rest of the poll's batch
      if (push_cancel(s, *req.op, &req, sub)) return;
    }
    if (!req.op_ended) {
      uring_op& st = state_of(*req.op);
      if (s.is_file() && res != 0) {
        // -EALREADY: an io-wq worker performs it; it completes with its own
        // result (should the worker be interrupted, it is issued again).
        // -ENOENT: it completed already. Either way it was not pending.
        req.took_effect = false;
        st.cancel_requested = false;
        st.cancel_refused = true;
      } else {
        // Still pending: the cancellation reached it (0), or it is past the
        // point of cancelling (-EALREADY) and ends soon; either way it was
        // pending when cancel() was called. It may end after cancel() returns.
        req.took_effect = true;
      }
      st.canceller = nullptr;
    }
    free_handle = s.released && s.in_kernel == 0;
  }
  {
    std::lock_guard lock(cq_lock_);
    req.resolved = true;  // from here on the cancel() call may return: req is gone
  }
  cq_free_.notify_all();
  if (free_handle) destroy(s);
}

// The answer to an ASYNC_CANCEL nobody waits for. Which operation it was for
// is not known; once every such answer of the handle is in, a miss among
// them (cancel_missed) asks again for each operation still in the kernel.
void uring_backend::on_handle_cancel_cqe(uring_handle& s, int res) noexcept {
  bool free_handle = false;
  {
    std::lock_guard lock(s.lock);
    --s.in_kernel;
    --s.cancels_in_kernel;
    in_kernel_ops_.fetch_sub(1, std::memory_order_relaxed);
    if (res == -ENOENT && !s.is_file()) s.cancel_missed = true;
    if (s.cancel_missed && s.cancels_in_kernel == 0) {
      s.cancel_missed = false;
      submission sub;  // submitted with the rest of the poll's batch
      for (op_queue* q : {&s.input, &s.output})
        q->for_each([&](operation& op) {
          const uring_op& st = state_of(op);
          if (st.in_kernel && st.cancel_requested && st.canceller == nullptr)
            (void)push_cancel(s, op, nullptr, sub);
        });
    }
    free_handle = s.released && s.in_kernel == 0;
  }
  if (free_handle) destroy(s);
}

void uring_backend::dispatch(const uring_cqe& cqe, completion_batch& out) noexcept {
  const std::uint64_t tag = cqe.user_data & tag_bits;
  if (tag == request_tag) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): user_data carries the address
    on_cancel_cqe(*reinterpret_cast<cancel_request*>(cqe.user_data & ~tag_bits), cqe.res);
  } else if (tag == handle_cancel_tag) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): user_data carries the address
    on_handle_cancel_cqe(*reinterpret_cast<uring_handle*>(cqe.user_data & ~tag_bits), cqe.res);
  } else if (cqe.user_data == wake_tag) {
    // Whatever its result (even -ECANCELED when the thread that armed it
    // has exited), the eventfd was signalled: arm the next read.
    wake_armed_ = false;
    arm_wake();
  } else {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): user_data carries the address
    on_operation_cqe(*reinterpret_cast<operation*>(cqe.user_data), cqe.res, cqe.flags, out);
  }
}

void uring_backend::arm_wake() noexcept {
  unsigned position = 0;
  wake_armed_ = ring_.push(
      [&](io_uring_sqe* sqe) {
        io_uring_prep_read(sqe, wakefd_, &wake_sink, sizeof(wake_sink), 0);
        io_uring_sqe_set_data64(sqe, wake_tag);
      },
      position);
}

void uring_backend::reap(int timeout_ms, completion_batch& out) noexcept {
  if (!wake_armed_) arm_wake();
  ring_.submit_and_wait(timeout_ms);
  uring_cqe cqes[64];
  for (int round = 0; round < 8; ++round) {
    const unsigned n = ring_.reap(cqes, 64);
    for (unsigned i = 0; i < n; ++i) dispatch(cqes[i], out);
    // Whatever these completions set off (a handle's next operation, the
    // rest of a send, the wake read) goes to the kernel in one enter; what
    // completes at once is taken in this same poll.
    if (!ring_.submit_pending()) break;
  }
}

// The CQ stays ours until the engine has queued `out` (poll_delivered).
void uring_backend::poll_events(int timeout_ms, completion_batch& out) noexcept {
  acquire_cq_to_poll();
  reap(timeout_ms, out);
}

void uring_backend::acquire_cq_to_poll() noexcept {
  std::unique_lock lock(cq_lock_);
  cq_free_.wait(lock, [&] { return !cq_busy_ && !drain_waiting_; });
  cq_busy_ = true;
}

void uring_backend::acquire_cq_to_drain() noexcept {
  std::unique_lock lock(cq_lock_);
  drain_waiting_ = true;  // no poll starts meanwhile
  while (cq_busy_) {
    lock.unlock();
    interrupt();  // the poller may be blocked in the kernel
    lock.lock();
    cq_free_.wait_for(lock, std::chrono::milliseconds(10), [&] { return !cq_busy_; });
  }
  cq_busy_ = true;
  drain_waiting_ = false;
}

void uring_backend::release_cq() noexcept {
  {
    std::lock_guard lock(cq_lock_);
    cq_busy_ = false;
  }
  cq_free_.notify_all();
}

void uring_backend::reap_if_idle() noexcept {
  {
    std::lock_guard lock(cq_lock_);
    if (cq_busy_ || drain_waiting_) return;  // its holder handles the CQEs
    cq_busy_ = true;
  }
  {
    completion_batch out(engine_);
    reap(0, out);
  }
  release_cq();
}

// Reaps until no operation is left in the kernel, delivering what the CQEs
// produce. close() calls it before engine.close(), after which nobody polls.
void uring_backend::drain() noexcept {
  acquire_cq_to_drain();
  {
    completion_batch out(engine_);
    while (in_kernel_ops_.load(std::memory_order_acquire) != 0) reap(100, out);
  }
  release_cq();
}

// ---- buffer pools ------------------------------------------------------------------

// A provided-buffer ring per pool, where the kernel has them (Linux 5.19);
// elsewhere the pool keeps its buffers and pooled recvs are emulated
// (readiness, then try_recv_pooled), as on epoll.
std::error_code uring_backend::adopt_pool(pool_state& pool) {
  std::lock_guard lock(pools_lock_);
  std::error_code ec;
  uring_pool* keeper = uring_pool::create(ring_.native(), pool, next_group_, ec);
  if (keeper == nullptr) return ec == errc::no_resources ? ec : std::error_code{};
  pool.kept_by(keeper, next_group_);
  ++next_group_;
  return {};
}

void uring_backend::forget_pool(pool_state& pool) noexcept {
  if (pool.keeper() == nullptr) return;
  std::lock_guard lock(pools_lock_);
  uring_pool::destroy(ring_.native(), static_cast<uring_pool*>(pool.keeper()));
  pool.kept_by(nullptr, 0);
}

// ---- the port ---------------------------------------------------------------------

void uring_backend::close() noexcept {
  if (!mark_closed()) return;
  submission sub;
  for_each_open_handle<uring_handle>([&](uring_handle& s) {
    request_cancel_all(s, s.input, nullptr, sub);
    request_cancel_all(s, s.output, nullptr, sub);
  });
  // With the cancellations goes every SQE published so far: none stays
  // deferred to a wait that may never come.
  ring_.submit_published();
  // The cancellations complete asynchronously: collect every one of them
  // (and of closed handles) into the queue before the engine closes, so
  // nothing is lost (contract item 11).
  drain();
  engine_.close();
}

}  // namespace

std::error_code create_uring_backend(unsigned concurrency, port_backend*& out) {
  return create_linux_backend<uring_backend>(concurrency, out);
}

}  // namespace proact::detail
