// What the two Linux backends (epoll, io_uring) share about an associated
// handle: its state, its two operation queues, and the rules that decide how
// its operations end (connection state, shutdown, disconnect), so that a
// contract rule is written once. Each backend adds what is specific to its
// kernel interface (epoll_backend.cpp, uring_backend.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>

#include "common/backend.hpp"
#include "common/connection_state.hpp"
#include "common/op_access.hpp"
#include "linux/nonblocking_io.hpp"
#include "linux/op_fifo.hpp"
#include "proact/error.hpp"

namespace proact::detail {

// The start of both backends' per-operation state (kept inside the
// operation: no allocation).
struct linux_op {
  operation* next;               // link in its handle's queue
  std::size_t done;              // bytes already sent or written (send, send_file, write_at)
  bool fin_sent;                 // disconnect: the FIN went, input is discarded up to the peer's
  std::uint32_t file_shortfall;  // send_file: the range's bytes the file did not have
};

inline linux_op& linux_state_of(operation& op) noexcept {
  return op_access::backend<linux_op>(op);
}

// Operations of one direction of one handle, in start order (per-socket
// order, contract item 3).
using op_queue = op_fifo<linux_op>;

// Which queue an operation kind waits on: input (accept, recv, recv_from,
// read_at) or output (connect, send, send_to, send_file, disconnect,
// write_at).
inline bool is_input(op_kind kind) noexcept {
  return kind == op_kind::recv || kind == op_kind::accept || kind == op_kind::recv_from ||
         kind == op_kind::read_at;
}

// An associated handle: socket (TCP, UDP, local stream) or file.
struct linux_handle : io_handle {
  using io_handle::io_handle;

  std::mutex lock;  // guards everything below
  std::atomic<bool> open{true};
  bool skip_on_success = false;
  bool shutdown_pending = false;  // shutdown_send() waits for the queued output
  bool draining = false;          // a disconnect discards input until the peer's FIN
  connection_state connection;    // stream sockets: how later operations end
  op_queue input;
  op_queue output;
  // The port's list of associated, open handles (under its registry lock).
  linux_handle* prev_registered = nullptr;
  linux_handle* next_registered = nullptr;
  bool registered = false;

  bool is_file() const noexcept { return kind == handle_kind::file; }
  op_queue& queue_for(op_kind k) noexcept { return is_input(k) ? input : output; }

 protected:
  ~linux_handle() = default;
};

// The completion of `op` with `bytes` and `ec`.
inline completion completion_for(operation& op, std::size_t bytes, std::error_code ec) noexcept {
  return completion{op_access::key(op), &op, bytes, ec};
}

// What an operation ended by cancel, close or port close reports.
inline std::error_code aborted() noexcept {
  return make_error_code(error::operation_aborted);
}

// ---- rules shared by both backends (the handle's lock held) ------------------------

// Why a start call on h must be refused before anything is queued, or empty.
std::error_code start_refusal(const linux_handle& h, op_kind kind, bool port_closed) noexcept;

// What a start call ends with at once, whatever is queued ahead of it (a
// recv or send while a connect is pending, a send after shutdown_send());
// false if it goes on.
bool ends_at_start(const linux_handle& h, operation& op, io_result& r) noexcept;
// What an operation ends with when its turn comes, without being tried (the
// connection failed); false if it is to be tried.
bool decided_without_trying(const linux_handle& h, operation& op, io_result& r) noexcept;

// A pooled recv whose buffers the pool keeps (the emulation), becoming the
// active recv of its handle while the pool is empty: it ends with
// pool_empty at once, as io_uring's kernel ends it when it finds its
// provided-buffer ring empty.
bool pool_empty_at_turn(const operation& op, io_result& r) noexcept;
// Every final outcome of a socket operation passes here: it names what
// Linux reports as EPIPE (shut down, not connected, or a failed connection)
// and keeps the connection's state.
void settle(linux_handle& h, operation& op, io_result& r) noexcept;

// One non-blocking attempt at a recv, send, recv_from, send_to, accept or
// send_file (sendfile(2) as far as the socket buffer allows, SIGPIPE never
// raised); would_block for the other kinds.
io_status try_transfer(const linux_handle& h, operation& op, io_result& r) noexcept;

// tcp_socket::shutdown_send(): the FIN now, or after the queued output.
std::error_code shutdown_send(linux_handle& h) noexcept;
// Sends the FIN that shutdown_send() left for when the output queue empties.
void shutdown_if_output_done(linux_handle& h) noexcept;
std::error_code skip_completion_on_success(linux_handle& h) noexcept;

// DisconnectEx semantics, in two steps around the backend aborting the
// pending recvs: the FIN (after the sends before it, which are done once the
// disconnect is active), then input discarded up to the peer's FIN and the
// connection dissolved (connect(AF_UNSPEC)) so that the socket can connect
// again. send_fin() returns false with the outcome in `r` if the FIN failed.
bool send_fin(linux_handle& h, io_result& r) noexcept;
io_status drain_and_dissolve(linux_handle& h, io_result& r) noexcept;
// Both steps, with `abort_input()` ending the pending recvs after the FIN.
template <class AbortInput>
io_status disconnect_step(linux_handle& h, operation& op, io_result& r, AbortInput&& abort_input) {
  linux_op& st = linux_state_of(op);
  if (!st.fin_sent) {
    if (!send_fin(h, r)) return io_status::done;
    st.fin_sent = true;
    abort_input();
  }
  return drain_and_dissolve(h, r);
}
// What a connect or disconnect leaving its queue ends on the handle.
inline void note_ended(linux_handle& h, op_kind kind) noexcept {
  if (kind == op_kind::disconnect) h.draining = false;
  if (kind == op_kind::connect) h.connection.connect_ended();
}

// A connect on a socket that is connected or connecting is refused, as
// connect() and ConnectEx refuse it.
std::error_code connect_refusal(const linux_handle& h) noexcept;

// Wakes a thread blocked on the eventfd `fd` (one write raises an edge).
void signal_eventfd(int fd) noexcept;

}  // namespace proact::detail
