// One non-blocking attempt at each operation kind on a socket: the syscall
// and the translation of its result into proact's completion terms. The
// epoll backend retries these on readiness; io_uring uses them for its
// speculative first try.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "common/op_access.hpp"
#include "proact/endpoint.hpp"
#include "proact/operation.hpp"

namespace proact::detail {

enum class io_status { done, would_block };

struct io_result {
  std::size_t bytes = 0;
  std::error_code error;
};

// Stream recv: bytes, or eof after an orderly shutdown; a recv whose buffers
// are all empty waits for readability and consumes nothing.
io_status try_recv(int fd, const operation& op, io_result& r) noexcept;
// What a stream recv learned about the socket's receive queue. A read
// shorter than its buffers emptied it. After a read that filled them only
// TCP_INQ's count of bytes left can tell, and asking for it takes recvmsg,
// about 250 ns more than recv on Linux 6.x; so the count is asked for only
// while reads fill their buffers, as fixed-size messages do.
struct input_probe {
  // In: read with recvmsg and TCP_CM_INQ. Out: whether the next read
  // should (this one filled its buffers); unchanged when nothing was read.
  bool ask_bytes_left = false;
  // In: a poll already reported the peer's end or an error. Its edge is
  // spent, and the end waits behind the data: neither a short read nor
  // TCP_CM_INQ (which counts a pending FIN as a byte, but not a pending
  // reset) proves the queue empty then; only a read that would block does.
  bool end_reported = false;
  // Out: the queue is known to be empty: the read would have blocked, got
  // less than it asked for, or TCP_CM_INQ counted no byte left. Data that
  // arrives later raises a new edge. A zero-byte recv only peeks: drained
  // only when it would block.
  bool drained = false;
};
// try_recv, also filling in `probe`.
io_status try_recv_noting_drain(int fd, const operation& op, io_result& r,
                                input_probe& probe) noexcept;
// A pooled recv's attempt (the emulation of a provided buffer): takes a
// buffer from the pool, reads into it, and gives it back unless bytes
// arrived (would block, eof, an error). With the pool empty: pool_empty
// (nothing read) if the socket is readable, else would_block. `probe` as
// for try_recv_noting_drain.
io_status try_recv_pooled(int fd, operation& op, io_result& r, input_probe& probe) noexcept;
// Asks a TCP socket to report its bytes left with each recvmsg (TCP_INQ).
void report_bytes_left(int fd) noexcept;
// Stream send of everything after `done` bytes; advances `done`.
io_status try_send(int fd, const operation& op, std::size_t& done, io_result& r) noexcept;
// One datagram; message_size with the bytes that fit if it was truncated.
io_status try_recv_from(int fd, const operation& op, io_result& r) noexcept;
io_status try_send_to(int fd, const operation& op, io_result& r) noexcept;
// accept4 into the operation's tcp_socket (non-blocking, close-on-exec).
io_status try_accept(int fd, const operation& op, address_family family, io_result& r) noexcept;
// The outcome of a connect in progress, on readiness. `state_is_current`:
// the readiness was collected after connect() returned, so SO_ERROR alone
// decides (a connect still in progress reports neither EPOLLOUT nor
// EPOLLHUP); otherwise the readiness may predate the connect (an unconnected
// socket reports EPOLLOUT|EPOLLHUP) and only a peer address proves it.
io_status try_connect_result(int fd, bool state_is_current, io_result& r) noexcept;
// send_file: what is left of the head, the range (sendfile) and the tail
// after `done` bytes; advances `done`. `file_shortfall` is the part of the
// range that will never go because the file ended first (then the tail
// still goes, and the result is eof).
io_status try_send_file(int fd, const operation& op, std::size_t& done,
                        std::uint32_t& file_shortfall, io_result& r) noexcept;
// Reads and discards until the peer's FIN (disconnect's drain).
io_status try_discard_until_eof(int fd, io_result& r) noexcept;

std::size_t total_size(const operation& op) noexcept;
// The operation's buffers as the iovec array they are laid out as.
iovec* as_iovec(const operation& op) noexcept;

}  // namespace proact::detail
