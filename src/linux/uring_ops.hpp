// The io_uring backend's per-operation and per-handle state, and what each
// operation kind means on io_uring: the SQE that performs it, how a CQE's
// result becomes a completion, and the non-blocking attempts made without the
// kernel's help (nonblocking_io.hpp) where io_uring has no opcode (send_file)
// or where skip_completion_on_success wants the result during the start call.
//
// The backend (uring_backend.cpp) owns the queues, cancellation and the ring;
// the functions here only read and fill one operation (and its handle's
// descriptor), all with the handle's lock held.
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <mutex>
#include <system_error>

#include "common/backend.hpp"
#include "common/op_access.hpp"
#include "linux/nonblocking_io.hpp"
#include "linux/op_fifo.hpp"
#include "proact/error.hpp"
#include "proact/operation.hpp"

namespace proact::detail {

struct uring_socket;
struct cancel_request;

// Per-operation state, kept inside the operation (no allocation).
struct uring_op {
  uring_socket* socket;
  operation* next;            // link in its handle's queue
  std::size_t done;           // bytes already sent or written (send, send_file, write_at)
  cancel_request* canceller;  // the cancel() call waiting for the kernel's answer
  std::error_code stashed;    // with `has_stash`: the result to deliver (see `has_stash`)
  socklen_t address_size;     // accept: in/out; connect: in
  bool in_kernel;             // its SQE went to the ring and its CQE is not handled yet
  bool cancel_requested;      // cancel, close_handle or close asked for its end
  bool connect_poll;          // a reissued connect waits for writability instead
  bool cancel_refused;        // file I/O: the kernel was already performing it
  bool fin_sent;              // disconnect: the FIN went, incoming data is discarded
  // The result is known already (bytes = `done`, error = `stashed`): the SQE
  // is a NOP whose CQE delivers it, in the socket's order, through the CQ.
  bool has_stash;
  unsigned char peek;  // a zero-byte recv peeks one byte here
  union {
    msghdr msg;                                   // recvmsg, sendmsg, recv_from, send_to
    unsigned char address[sizeof(sockaddr_in6)];  // accept, connect
  };
};

inline uring_op& state_of(operation& op) noexcept {
  return op_access::backend<uring_op>(op);
}

// FIFO of the started operations of one kind on one handle (for a file: the
// set of its operations in the kernel, in no particular order).
using op_queue = op_fifo<uring_op>;
// Whether an operation ahead of `op` in `q` is being cancelled already.
bool cancel_ahead_of(const op_queue& q, const operation& op) noexcept;

// A cancel() call waiting for the kernel's answer about its operation: an
// operation that completed in the kernel but whose CQE nobody reaped yet is
// no longer pending (not_found, result kept), as with CancelIoEx.
struct alignas(16) cancel_request {
  operation* op = nullptr;
  uring_socket* socket = nullptr;
  bool op_ended = false;     // socket lock: the operation's completion is out
  bool took_effect = false;  // socket lock: it ends (or ended) aborted
  bool resolved = false;     // cq_lock_: the ASYNC_CANCEL's CQE was handled
};

// An associated handle: socket (TCP, UDP, local stream) or file.
struct uring_socket final : io_handle {
  using io_handle::io_handle;

  std::mutex lock;  // guards everything below
  std::atomic<bool> open{true};
  op_queue reads;                 // accept, recv, recv_from; a file's read_at and write_at
  op_queue writes;                // connect, send, send_to, send_file, disconnect
  unsigned in_kernel = 0;         // operations and awaited cancels whose CQE is outstanding
  bool released = false;          // the public handle is gone: free once in_kernel is 0
  bool skip_on_success = false;   // skip_completion_on_success()
  bool shutdown_pending = false;  // shutdown_send() waits for the queued writes
  bool draining = false;          // a disconnect discards input until the peer's FIN
  // The port's list of associated, open handles (under the registry lock).
  uring_socket* prev_registered = nullptr;
  uring_socket* next_registered = nullptr;
  bool registered = false;
};

inline bool is_file(const uring_socket& s) noexcept {
  return s.kind == handle_kind::file;
}

inline bool is_read(op_kind kind) noexcept {
  return kind == op_kind::recv || kind == op_kind::accept || kind == op_kind::recv_from;
}

inline std::error_code aborted() noexcept {
  return native_error(ECANCELED);
}

inline completion completion_for(operation& op, std::size_t bytes, std::error_code ec) noexcept {
  return completion{op_access::key(op), &op, bytes, ec};
}

// Fills `sqe` for what `op` needs from the kernel next (user_data = &op).
void prepare(const uring_socket& s, operation& op, io_uring_sqe* sqe) noexcept;

// An operation's CQE either ends it (`result` is its completion) or asks for
// the same SQE again (the rest of a send, an accept whose connection was
// reset before it was taken, ...).
enum class outcome { complete, reissue };

outcome recv_result(operation& op, int res, completion& result) noexcept;
outcome send_result(operation& op, int res, completion& result) noexcept;
outcome accept_result(const uring_socket& s, operation& op, int res, completion& result) noexcept;
outcome connect_result(const uring_socket& s, operation& op, int res, completion& result) noexcept;
outcome recv_from_result(operation& op, int res, completion& result) noexcept;
outcome send_to_result(operation& op, int res, completion& result) noexcept;
outcome file_result(operation& op, int res, completion& result) noexcept;

// The refusals connect() itself gives (and epoll returns at start): the
// socket is connected already, or a connection attempt is under way.
std::error_code connect_refusal(const uring_socket& s) noexcept;

// skip_completion_on_success: one non-blocking attempt at a recv, send,
// recv_from, send_to or accept during its start call.
io_status attempt_at_start(const uring_socket& s, operation& op, io_result& r) noexcept;

// send_file: sendfile(2) of the rest of the range, as far as the socket
// buffer allows (io_uring has no sendfile opcode; the operation waits for
// writability with POLL_ADD between attempts). SIGPIPE is not raised.
io_status send_file_step(const uring_socket& s, operation& op, io_result& r) noexcept;

}  // namespace proact::detail
