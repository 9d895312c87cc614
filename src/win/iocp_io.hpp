// The IOCP backend's per-operation state and its start calls, one per
// operation kind: what the kernel is asked to do, and how its answer becomes
// proact's result (iocp_io.cpp). iocp_backend.cpp decides what happens to
// the answer: a packet to wait for, a packet to post, or a result returned
// at start (skip completion on success).
#pragma once

#include <windows.h>
#include <winsock2.h>

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "common/op_access.hpp"
#include "iocp_backend.hpp"
#include "proact/error.hpp"
#include "winsock.hpp"

namespace proact::detail {

// An operation's backend state. The OVERLAPPED comes first: the pointer a
// packet carries is then the address of this state, and
// op_access::from_backend gives back the operation.
struct iocp_op {
  OVERLAPPED overlapped;
  iocp_handle* handle;  // I/O: the handle it runs on
  iocp_op* prev;        // tracked: iocp_handle::first..last
  iocp_op* next;
  std::uint64_t post_bytes;  // post: the whole count (packets hold 32 bits);
                             // posted result: its bytes
  int posted_code;           // posted result: its code (0 = success)
  int from_length;           // recv_from: length of the source address
  bool posted;               // the packet was posted by the backend with posted_code
  bool tracked;              // on h's list (and counted in h.sends if a TCP send)
  bool held;                 // a recv waiting behind a pooled recv, not yet issued
  std::uint8_t phase;        // disconnect: see iocp_disconnect.cpp
  SOCKET accepted;           // accept: the socket AcceptEx connects
  union {
    LPFN_GETACCEPTEXSOCKADDRS get_addresses;  // accept: parses `addresses`
    iocp_op* then;      // pipe send: a zero-length send that completes after this one
    iocp_op* next_job;  // flush: link in the file worker's queue (iocp_file_worker.hpp)
  };
  union {
    unsigned char addresses[2 * winsock::accept_address_length];  // accept
    TRANSMIT_FILE_BUFFERS around;  // send_file: its head and tail, for TransmitFile
  };
  char* bounce;  // gather send on a pipe: the buffers copied into one (heap)
};
static_assert(offsetof(iocp_op, overlapped) == 0);

// One start call. Returns the call's native code: 0 when it completed at
// once, ERROR_IO_PENDING, or its error; `bytes` is what an immediate
// completion transferred. An error of another category means the request
// was refused before any call was made.
std::error_code issue_io(iocp_handle& h, operation& op, iocp_op& s, const endpoint* remote,
                         DWORD& bytes) noexcept;

// Skip mode: a non-blocking accept() on the listener, so that an accept
// with a connection already waiting completes at start (AcceptEx goes
// pending on Wine even then). True if `op`'s socket was filled.
bool accept_at_once(iocp_handle& h, operation& op) noexcept;

// Whether a start call that failed at once ended its request with an NT
// warning status (0x8xxxxxxx, e.g. STATUS_BUFFER_OVERFLOW): such a request
// is complete, and queues a packet unless the handle skips completions on
// success. The I/O manager writes the status block (OVERLAPPED::Internal,
// InternalHigh) of a request that completes during the call, unless the
// status is an error.
bool completed_with_warning(const iocp_op& s) noexcept;
// The byte count in the status block of a request completed during its call.
DWORD status_bytes(const iocp_op& s) noexcept;

// The codes of a truncated datagram (WSAEMSGSIZE from the call,
// ERROR_MORE_DATA from the packet's STATUS_BUFFER_OVERFLOW).
bool is_warning(int code) noexcept;

// Whether a start call that failed at once with `code` refuses the operation
// (the error is returned, no completion) rather than completing it with the
// error.
bool refused_at_start(op_kind kind, int code) noexcept;

// proact's result for an operation whose I/O ended with the native `code`
// (0 = success) and `bytes`, however it was learned (dequeued packet, posted
// result, completion at start). Applies the contract's rules: eof, aborted
// by our own close, the zero-length recv probe, accept and connect
// follow-ups, the source address of recv_from. May change `bytes`.
std::error_code io_outcome(iocp_handle& h, operation& op, iocp_op& s, int code,
                           std::size_t& bytes) noexcept;

// Frees what an operation holds beyond its state (a pipe send's copy). Called
// when its result is known, or when its start is refused.
void release_io(iocp_op& s) noexcept;

// The code of a pooled recv's result posted because its pool was empty
// (no native code means that; native codes are positive).
inline constexpr int pool_empty_code = -1;

// What an operation ended by cancel, close or port close reports.
inline std::error_code aborted() noexcept {
  return make_error_code(error::operation_aborted);
}

// The result for a native `code` (0 = success): a cancellation is proact's
// own outcome, everything else keeps its native code.
inline std::error_code result_of(int code) noexcept {
  if (code == 0) return {};
  return code == ERROR_OPERATION_ABORTED ? aborted() : native_error(code);
}

}  // namespace proact::detail
