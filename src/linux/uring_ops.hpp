// The io_uring backend's per-operation and per-handle state, and what each
// operation kind means on io_uring: the SQE that performs it, and how a CQE's
// result becomes a completion. (Where io_uring has no opcode (send_file), or
// where skip_completion_on_success wants the result during the start call,
// the backend makes the shared layer's non-blocking attempt, try_transfer.)
//
// The backend (uring_backend.cpp) owns the queues, cancellation and the ring;
// the functions here only read and fill one operation (and its handle's
// descriptor), all with the handle's lock held.
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "common/backend.hpp"
#include "common/op_access.hpp"
#include "linux/linux_handle.hpp"
#include "linux/nonblocking_io.hpp"
#include "proact/operation.hpp"

namespace proact::detail {

struct uring_handle;
struct cancel_request;

// Per-operation state, kept inside the operation (no allocation).
struct uring_op {
  linux_op queued;  // first: the shared layer's view
  uring_handle* handle;
  cancel_request* canceller;  // the cancel() call waiting for the kernel's answer
  std::error_code stashed;    // with `has_stash`: the result to deliver (see `has_stash`)
  socklen_t address_size;     // accept: in/out; connect: in
  bool in_kernel;             // its SQE went to the ring and its CQE is not handled yet
  bool cancel_requested;      // cancel, close_handle or close asked for its end
  bool connect_poll;          // a reissued connect waits for writability instead
  bool cancel_refused;        // file I/O: the kernel was already performing it
  // The result is known already (bytes = `queued.done`, error = `stashed`):
  // the SQE is a NOP whose CQE delivers it, in the handle's order, through
  // the CQ.
  bool has_stash;
  unsigned char peek;  // a zero-byte recv peeks one byte here
  int own_fd;          // flush: its own duplicate of the file's descriptor (take_descriptor)
  union {
    msghdr msg;                                   // recvmsg, sendmsg, recv_from, send_to
    unsigned char address[sizeof(sockaddr_in6)];  // accept, connect
  };
};

inline uring_op& state_of(operation& op) noexcept {
  return op_access::backend<uring_op>(op);
}

// Whether an operation ahead of `op` in `q` is being cancelled already.
bool cancel_ahead_of(const op_queue& q, const operation& op) noexcept;

// A cancel() call waiting for the kernel's answer about its operation: an
// operation that completed in the kernel but whose CQE nobody reaped yet is
// no longer pending (not_found, result kept), as with CancelIoEx.
struct alignas(16) cancel_request {
  operation* op = nullptr;
  uring_handle* handle = nullptr;
  bool op_ended = false;     // handle lock: the operation's completion is out
  bool took_effect = false;  // handle lock: it ends (or ended) aborted
  bool resolved = false;     // cq_lock_: the ASYNC_CANCEL's CQE was handled
};

// An associated handle. A socket's queues hold its operations in start
// order, the head of each in the kernel; a file's operations are all in the
// kernel at once (reads on `input`, writes on `output`, in no order).
struct uring_handle final : linux_handle {
  using linux_handle::linux_handle;

  unsigned in_kernel = 0;          // operations and cancels whose CQE is outstanding
  unsigned cancels_in_kernel = 0;  // of which cancels nobody waits for
  bool cancel_missed = false;      // one of those found nothing: see on_handle_cancel_cqe
  bool released = false;           // the public handle is gone: free once in_kernel is 0
};

// A flush is performed by an io-wq worker, which looks its descriptor up
// only when it runs, maybe after close_handle gave the number up (then it
// would fail with EBADF, or flush whatever file got the number). So a flush
// has a duplicate of its own, taken at start (handle lock held) and closed
// with its completion (drop_descriptor). Nothing for other kinds.
std::error_code take_descriptor(const uring_handle& h, operation& op) noexcept;
void drop_descriptor(operation& op) noexcept;

// Fills `sqe` for what `op` needs from the kernel next (user_data = &op).
void prepare(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept;

// An operation's CQE either ends it (`result` is its outcome) or asks for
// the same SQE again (the rest of a send, an accept whose connection was
// reset before it was taken, ...).
enum class outcome { complete, reissue };

outcome recv_result(operation& op, int res, io_result& result) noexcept;
// A pooled recv whose buffer the kernel picked from the pool's ring: -ENOBUFS
// (the ring was empty) is pool_empty; a buffer the CQE names (`flags`) goes
// to the caller with the bytes, or back to the ring if none arrived.
outcome pooled_recv_outcome(operation& op, int res, std::uint32_t flags,
                            io_result& result) noexcept;
// A CQE that names a buffer the operation does not hand out (`flags`): it
// goes back to the pool's ring.
void give_back_kernel_buffer(operation& op, std::uint32_t flags) noexcept;
// Whether `op` is a pooled recv whose pool's buffers the kernel holds.
bool kernel_picks_buffer(const operation& op) noexcept;
outcome send_result(operation& op, int res, io_result& result) noexcept;
outcome accept_result(const uring_handle& h, operation& op, int res, io_result& result) noexcept;
outcome connect_result(const uring_handle& h, operation& op, int res, io_result& result) noexcept;
outcome recv_from_result(operation& op, int res, io_result& result) noexcept;
outcome send_to_result(int res, io_result& result) noexcept;
outcome file_result(operation& op, int res, io_result& result) noexcept;
outcome flush_result(int res, io_result& result) noexcept;

}  // namespace proact::detail
