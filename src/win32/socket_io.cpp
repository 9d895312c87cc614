// Overlapped socket I/O: WSARecv, WSASend, WSARecvFrom, WSASendTo,
// WSAGetOverlappedResult, CancelIo, CancelIoEx. Every operation goes pending and completes through
// the port (the socket's key, the caller's OVERLAPPED).
#include <chrono>
#include <span>
#include <thread>

#include "completion.hpp"
#include "objects.hpp"
#include "op_record.hpp"
#include "proact/error.hpp"
#include "proact/port.hpp"
#include "sockaddr.hpp"
#include "status.hpp"
#include "transmit.hpp"

using namespace proact::win32;

namespace {

// Winsock's MSG_PUSH_IMMEDIATE, which the header does not name.
constexpr DWORD msg_push_immediate = 0x20;

socket_object* refused(int wsa_error) {
  WSASetLastError(wsa_error);
  return nullptr;
}

// Checks what the four calls share; the socket, or nullptr with the error
// set. `role` is the one the call is for; WSARecv also takes a bound UDP
// socket and WSARecvFrom a TCP one (`other_too`), as Winsock does.
socket_object* socket_for_io(SOCKET s, socket_role role, DWORD count, LPWSAOVERLAPPED ov,
                             LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, bool other_too = false) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return refused(WSAENOTSOCK);
  // Blocking calls and completion routines are not part of this layer.
  if (ov == nullptr || routine != nullptr) return refused(WSAEOPNOTSUPP);
  if (count == 0) return refused(WSAEINVAL);
  if (count > record_buffers) return refused(WSAENOBUFS);
  const socket_role is = so->role.load(std::memory_order_acquire);
  if (is == role) return so;
  if (other_too && (is == socket_role::stream || is == socket_role::datagram)) return so;
  return refused(role == socket_role::stream ? WSAENOTCONN : WSAEOPNOTSUPP);
}

// The receive flags a call may pass: MSG_PARTIAL has a meaning only for
// message-oriented protocols (neither TCP nor UDP: ignored), and
// MSG_PUSH_IMMEDIATE is a hint for streams. MSG_PEEK, MSG_WAITALL and
// MSG_OOB are not provided on overlapped sockets here.
bool receive_flags_supported(const DWORD* flags, bool stream) noexcept {
  if (flags == nullptr) return true;
  const DWORD allowed = MSG_PARTIAL | (stream ? msg_push_immediate : 0);
  return (*flags & ~allowed) == 0;
}

op_record* record_for(socket_object& so, proact::handle& on, op_kind kind, LPWSABUF buffers,
                      DWORD count, LPWSAOVERLAPPED ov) {
  op_record* r = take_record(kind, ov, so.key, &so, &on);
  if (r == nullptr) return nullptr;
  r->buffer_count = count;
  for (DWORD i = 0; i < count; ++i) r->buffers[i] = proact::buffer{buffers[i].buf, buffers[i].len};
  return r;
}

bool skip_mode(const socket_object& so) noexcept {
  return so.port != nullptr && so.skip_on_success.load(std::memory_order_acquire);
}

// The answer of a start call: pending; in skip mode perhaps done in the call
// (0 and the byte count, or its error; no packet comes); or refused.
int started(op_record* r, LPWSAOVERLAPPED ov, const std::error_code& ec, socket_object& so,
            bool skip, LPDWORD bytes, LPDWORD flags = nullptr) {
  const start_outcome o = after_start(r, ov, ec, skip, so.port);
  switch (o.what) {
    case start_outcome::pending:
      return fail_wsa(WSA_IO_PENDING);
    case start_outcome::refused:
      return fail_wsa(wsa_from(o.refusal));
    case start_outcome::done:
      break;
  }
  if (bytes != nullptr) *bytes = o.result.bytes;
  // A receive done in its call updates its flags (WSARecv); no MSG_PARTIAL
  // comes from TCP or UDP.
  if (flags != nullptr) *flags = 0;
  if (o.result.status != STATUS_SUCCESS) return fail_wsa(wsa_from_ntstatus(o.result.status));
  WSASetLastError(0);
  return 0;
}

}  // namespace

int WSAAPI WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesRecvd,
                   LPDWORD lpFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  socket_object* so =
      socket_for_io(s, socket_role::stream, dwBufferCount, lpOverlapped, lpCompletionRoutine, true);
  if (so == nullptr) return SOCKET_ERROR;
  if (lpBuffers == nullptr) return fail_wsa(WSAEFAULT);
  // A bound UDP socket: a datagram, its source not asked for.
  if (so->role.load(std::memory_order_acquire) == socket_role::datagram) {
    return WSARecvFrom(s, lpBuffers, dwBufferCount, lpNumberOfBytesRecvd, lpFlags, nullptr, nullptr,
                       lpOverlapped, lpCompletionRoutine);
  }
  if (!receive_flags_supported(lpFlags, true)) return fail_wsa(WSAEOPNOTSUPP);  // MSG_PEEK...
  if (so->recv_shut.load(std::memory_order_acquire)) return fail_wsa(WSAESHUTDOWN);
  op_record* r = record_for(*so, so->stream, op_kind::recv, lpBuffers, dwBufferCount, lpOverlapped);
  if (r == nullptr) return fail_wsa(WSAENOBUFS);
  const bool skip = skip_mode(*so);
  mark_pending(lpOverlapped, r, skip);
  const std::error_code ec =
      dwBufferCount == 1
          ? so->stream.recv(*r, r->buffers[0])
          : so->stream.recv(*r, std::span<const proact::buffer>(r->buffers, dwBufferCount));
  return started(r, lpOverlapped, ec, *so, skip, lpNumberOfBytesRecvd, lpFlags);
}

int WSAAPI WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent,
                   DWORD dwFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  socket_object* so =
      socket_for_io(s, socket_role::stream, dwBufferCount, lpOverlapped, lpCompletionRoutine);
  if (so == nullptr) return SOCKET_ERROR;
  if (lpBuffers == nullptr) return fail_wsa(WSAEFAULT);
  // MSG_DONTROUTE: a hint providers may ignore (WSASend); MSG_OOB and
  // MSG_PARTIAL are not for TCP or UDP here.
  if ((dwFlags & ~MSG_DONTROUTE) != 0) return fail_wsa(WSAEOPNOTSUPP);
  if (so->send_shut.load(std::memory_order_acquire)) return fail_wsa(WSAESHUTDOWN);
  op_record* r = record_for(*so, so->stream, op_kind::send, lpBuffers, dwBufferCount, lpOverlapped);
  if (r == nullptr) return fail_wsa(WSAENOBUFS);
  for (DWORD i = 0; i < dwBufferCount; ++i) r->send_buffers[i] = r->buffers[i];
  const bool skip = skip_mode(*so);
  mark_pending(lpOverlapped, r, skip);
  const std::error_code ec = dwBufferCount == 1
                                 ? so->stream.send(*r, r->send_buffers[0])
                                 : so->stream.send(*r, std::span<const proact::const_buffer>(
                                                           r->send_buffers, dwBufferCount));
  return started(r, lpOverlapped, ec, *so, skip, lpNumberOfBytesSent);
}

int WSAAPI WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                       LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr* lpFrom,
                       LPINT lpFromlen, LPWSAOVERLAPPED lpOverlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  socket_object* so = socket_for_io(s, socket_role::datagram, dwBufferCount, lpOverlapped,
                                    lpCompletionRoutine, true);
  if (so == nullptr) return SOCKET_ERROR;
  // A TCP socket: "lpFrom and lpFromlen are ignored" (WSARecvFrom).
  if (so->role.load(std::memory_order_acquire) == socket_role::stream) {
    return WSARecv(s, lpBuffers, dwBufferCount, lpNumberOfBytesRecvd, lpFlags, lpOverlapped,
                   lpCompletionRoutine);
  }
  if (lpBuffers == nullptr || (lpFrom != nullptr && lpFromlen == nullptr)) {
    return fail_wsa(WSAEFAULT);
  }
  if (!receive_flags_supported(lpFlags, false)) return fail_wsa(WSAEOPNOTSUPP);
  op_record* r =
      record_for(*so, so->udp, op_kind::recv_from, lpBuffers, dwBufferCount, lpOverlapped);
  if (r == nullptr) return fail_wsa(WSAENOBUFS);
  r->peer = proact::endpoint{};
  r->from = lpFrom;
  r->from_length = lpFromlen;
  const bool skip = skip_mode(*so);
  mark_pending(lpOverlapped, r, skip);
  const std::error_code ec =
      dwBufferCount == 1
          ? so->udp.recv_from(*r, r->buffers[0], &r->peer)
          : so->udp.recv_from(*r, std::span<const proact::buffer>(r->buffers, dwBufferCount),
                              &r->peer);
  return started(r, lpOverlapped, ec, *so, skip, lpNumberOfBytesRecvd, lpFlags);
}

int WSAAPI WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent,
                     DWORD dwFlags, const struct sockaddr* lpTo, int iTolen,
                     LPWSAOVERLAPPED lpOverlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  socket_object* so = socket_for_io(s, socket_role::datagram, dwBufferCount, lpOverlapped,
                                    lpCompletionRoutine, true);
  if (so == nullptr) return SOCKET_ERROR;
  // A TCP socket: lpTo and iTolen are ignored, as WSASend (WSASendTo).
  if (so->role.load(std::memory_order_acquire) == socket_role::stream) {
    return WSASend(s, lpBuffers, dwBufferCount, lpNumberOfBytesSent, dwFlags, lpOverlapped,
                   lpCompletionRoutine);
  }
  if (lpBuffers == nullptr) return fail_wsa(WSAEFAULT);
  if ((dwFlags & ~MSG_DONTROUTE) != 0) return fail_wsa(WSAEOPNOTSUPP);
  proact::endpoint to;
  if (!endpoint_from(lpTo, iTolen, to))
    return fail_wsa(lpTo == nullptr ? WSAEDESTADDRREQ : WSAEFAULT);
  op_record* r = record_for(*so, so->udp, op_kind::send_to, lpBuffers, dwBufferCount, lpOverlapped);
  if (r == nullptr) return fail_wsa(WSAENOBUFS);
  for (DWORD i = 0; i < dwBufferCount; ++i) r->send_buffers[i] = r->buffers[i];
  r->peer = to;
  const bool skip = skip_mode(*so);
  mark_pending(lpOverlapped, r, skip);
  const std::error_code ec =
      dwBufferCount == 1
          ? so->udp.send_to(*r, r->send_buffers[0], r->peer)
          : so->udp.send_to(
                *r, std::span<const proact::const_buffer>(r->send_buffers, dwBufferCount), r->peer);
  return started(r, lpOverlapped, ec, *so, skip, lpNumberOfBytesSent);
}

BOOL WSAAPI WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD lpcbTransfer,
                                   BOOL fWait, LPDWORD lpdwFlags) {
  if (find_socket(s) == nullptr) return refuse(WSAENOTSOCK);
  if (lpOverlapped == nullptr || lpcbTransfer == nullptr || lpdwFlags == nullptr) {
    return refuse(WSAEFAULT);
  }
  DWORD status = read_status(lpOverlapped);
  if (status == STATUS_PENDING && fWait) {
    const proact::blocking_scope blocked;  // as GetOverlappedResult
    while (status == STATUS_PENDING) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      status = read_status(lpOverlapped);
    }
  }
  if (status == STATUS_PENDING) return refuse(WSA_IO_INCOMPLETE);
  *lpcbTransfer = static_cast<DWORD>(lpOverlapped->InternalHigh);
  *lpdwFlags = 0;
  if (status != STATUS_SUCCESS) return refuse(wsa_from_ntstatus(status));
  return TRUE;
}

namespace {

// The proact handle behind a socket or file HANDLE, and its identity (what
// op_record::owner holds); false if it is neither.
bool io_handle_of(HANDLE h, proact::handle*& io, const void*& identity) {
  if (socket_object* so = find_socket(reinterpret_cast<UINT_PTR>(h))) {
    io = so->active();
    identity = so;
    return true;
  }
  if (file_object* f = find_file(h)) {
    io = f->file.is_open() ? &f->file : nullptr;
    identity = f;
    return true;
  }
  return false;
}

}  // namespace

BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped) {
  proact::handle* h = nullptr;
  const void* identity = nullptr;
  if (!io_handle_of(hFile, h, identity)) return fail_win32(ERROR_INVALID_HANDLE);
  if (lpOverlapped == nullptr) {
    if (h == nullptr) return fail_win32(ERROR_NOT_FOUND);
    if (auto ec = h->cancel()) {
      return fail_win32(ec == proact::errc::not_found ? ERROR_NOT_FOUND : ERROR_INVALID_HANDLE);
    }
    return TRUE;
  }
  op_record* r = read_status(lpOverlapped) == STATUS_PENDING ? record_of(lpOverlapped) : nullptr;
  if (r == nullptr || r->overlapped != lpOverlapped || r->owner != identity ||
      r->started_on == nullptr) {
    return fail_win32(ERROR_NOT_FOUND);
  }
  // A TransmitFile's or DisconnectEx's steps are operations of their own.
  const std::error_code ec =
      r->kind == op_kind::transmit_whole ? cancel_transmit(*r) : r->started_on->cancel(*r);
  if (ec) {
    return fail_win32(ec == proact::errc::not_found ? ERROR_NOT_FOUND : ERROR_INVALID_HANDLE);
  }
  return TRUE;
}

BOOL WINAPI CancelIo(HANDLE hFile) {
  proact::handle* h = nullptr;
  const void* identity = nullptr;
  if (!io_handle_of(hFile, h, identity)) return fail_win32(ERROR_INVALID_HANDLE);
  // Every pending operation of the handle (not only this thread's: I/O here
  // belongs to no thread). Nothing pending is still success.
  if (h != nullptr) (void)h->cancel();
  return TRUE;
}
