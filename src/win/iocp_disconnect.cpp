// tcp_socket::disconnect on IOCP, emulated: DisconnectEx(TF_REUSE_SOCKET)
// cannot be relied on (Wine 8.0 only shuts the send side and leaves the
// socket connected), and the contract asks more of it than DisconnectEx
// says (the peer's FIN is awaited). The steps, as the epoll backend takes
// them:
//   1. shutdown(SD_SEND): Winsock sends the FIN after the data of the sends
//      already started; pending recvs are cancelled (operation_aborted);
//   2. drain: recvs into a scratch buffer until the peer's FIN (or an error);
//   3. once the sends started before it have completed, the connected socket
//      is replaced by a fresh overlapped one, associated with the same port
//      and key (and skip mode), and the public tcp_socket's native handle is
//      updated: the socket is open, unconnected, ready for connect().
// A cancelled (or port-closed) disconnect stops where it is and replaces
// nothing.
#include <new>

#include "common/handle_access.hpp"
#include "common/sys.hpp"
#include "iocp_io.hpp"
#include "proact/error.hpp"
#include "proact/socket.hpp"
#include "winsock.hpp"

namespace proact::detail {

namespace {

enum phase : std::uint8_t {
  phase_none = 0,    // failed at start: the posted result is final
  phase_drain,       // a drain recv is pending, or a posted packet continues the drain
  phase_wait_sends,  // drained; waits for the pending sends (no packet to come)
  phase_final,       // the posted packet carries the final result
};

// Where drained bytes go. Written only by the kernel and never read, so one
// buffer serves every drain at once.
char discard[64 * 1024];

// Drain recvs completed at once (skip mode) before one is passed to the
// port, so that a peer that keeps sending cannot hold the thread.
constexpr int drain_burst = 16;

struct drain_request {
  iocp_handle* h;
  iocp_op* s;
  DWORD bytes;
};

std::error_code drain_call(void* context) noexcept {
  auto& r = *static_cast<drain_request*>(context);
  WSABUF b{static_cast<ULONG>(sizeof(discard)), discard};
  DWORD flags = 0;
  if (WSARecv(r.h->socket(), &b, 1, &r.bytes, &flags, &r.s->overlapped, nullptr) == 0)
    return native_error(0);
  return native_error(WSAGetLastError());
}

}  // namespace

std::error_code iocp_backend::start_disconnect(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  if (h.kind != handle_kind::tcp_stream) {
    unpromise(h);
    return make_error_code(error::invalid_argument);
  }
  int code = 0;
  if (h.disconnecting != nullptr)
    code = WSAENOTCONN;  // the first one leaves the socket unconnected
  else if (::shutdown(h.socket(), SD_SEND) != 0)
    code = WSAGetLastError();  // e.g. not connected: the result, not a refusal
  if (code == 0) {
    for (iocp_op* r = h.first; r != nullptr; r = r->next)
      if (op_access::kind(*op_access::from_backend(r)) == op_kind::recv && !withdraw_held(h, *r))
        CancelIoEx(h.native(), &r->overlapped);
    h.disconnecting = &op;
    s.phase = phase_drain;
    track(h, op, s);                   // cancel-all and close find its drain
    if (drain(h, s, code)) return {};  // a packet will come
    if (!end_disconnect(h, op, s, code)) return {};
    untrack(h, op, s);
  }
  if (h.skip_on_success) {
    unpromise(h);
    op_access::complete_at_start(op, 0, result_of(code));
    op_access::end(op);
    return {};
  }
  if (!post_result(h, s, code, 0)) {
    unpromise(h);
    return native_error(static_cast<int>(GetLastError()));
  }
  return {};
}

bool iocp_backend::drain(iocp_handle& h, iocp_op& s, int& code) noexcept {
  for (int round = 0;; ++round) {
    if (round == drain_burst) {  // go on from the port
      s.phase = phase_drain;
      if (post_result(h, s, 0, 1)) return true;
      code = static_cast<int>(GetLastError());
      return false;
    }
    s.overlapped = OVERLAPPED{};
    s.posted = false;
    drain_request request{&h, &s, 0};
    code = run_start(&drain_call, &request).value();
    if (code == ERROR_IO_PENDING || (code == 0 && !h.skip_on_success)) return true;
    if (code != 0 || request.bytes == 0) return false;  // an error, or the peer's FIN
  }
}

bool iocp_backend::disconnect_packet(iocp_handle& h, operation& op, iocp_op& s, int code,
                                     std::size_t bytes, std::error_code& result) noexcept {
  if (s.phase != phase_drain) {  // a posted final result
    result = result_of(code);
    return true;
  }
  const bool inside = h.gate.enter();
  bool over = true;
  {
    std::lock_guard<std::mutex> guard(h.lock);
    if (!inside) {
      code = ERROR_OPERATION_ABORTED;  // closed by us; the close cancelled the drain
    } else if (code == 0 && bytes != 0) {
      // More of the peer's data went to the scratch buffer: receive again,
      // unless the port was closed (its close cancelled what was pending).
      if (open_.enter()) {
        const bool pending = drain(h, s, code);
        open_.leave();
        if (pending) over = false;
      } else {
        code = ERROR_OPERATION_ABORTED;
      }
    }
    if (over) over = end_disconnect(h, op, s, code);
    if (over) untrack(h, op, s);
  }
  if (inside) h.gate.leave();
  if (!over) return false;
  result = result_of(code);
  return true;
}

bool iocp_backend::end_disconnect(iocp_handle& h, operation& op, iocp_op& s, int& code) noexcept {
  if (code != ERROR_OPERATION_ABORTED && h.sends != 0) {
    // The FIN goes after the pending sends; the socket may go only after them.
    s.phase = phase_wait_sends;
    s.posted_code = code;
    return false;
  }
  code = finish_disconnect(h, op, code);
  h.disconnecting = nullptr;
  s.phase = phase_final;
  return true;
}

int iocp_backend::finish_disconnect(iocp_handle& h, operation& op, int code) noexcept {
  if (code == ERROR_OPERATION_ABORTED) return code;  // cancelled: the socket stays as it is
  if (open_.is_shut()) return ERROR_OPERATION_ABORTED;
  if (const std::error_code ec = replace_socket(h, op); ec && code == 0)
    code = ec.category() == native_category() ? ec.value() : ERROR_INVALID_FUNCTION;
  return code;
}

void iocp_backend::sends_done(iocp_handle& h) noexcept {
  operation& op = *h.disconnecting;
  iocp_op& s = op_access::backend<iocp_op>(op);
  if (s.phase != phase_wait_sends) return;  // still draining
  int code = s.posted_code;
  if (h.gate.enter()) {
    code = finish_disconnect(h, op, code);
    h.gate.leave();
  } else {
    code = ERROR_OPERATION_ABORTED;  // closed by us
  }
  h.disconnecting = nullptr;
  s.phase = phase_final;
  untrack(h, op, s);
  // Nothing to do if this fails: the system is out of resources.
  (void)post_result(h, s, code, 0);
}

std::error_code iocp_backend::replace_socket(iocp_handle& h, operation& op) noexcept {
  std::error_code ec;
  const native_handle_type fresh = sys::open_tcp_socket(h.family, ec);
  if (ec) return ec;
  const auto fresh_handle = reinterpret_cast<HANDLE>(fresh);
  if (CreateIoCompletionPort(fresh_handle, port_, reinterpret_cast<ULONG_PTR>(&h), 0) == nullptr ||
      (h.skip_on_success &&
       !SetFileCompletionNotificationModes(fresh_handle, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS))) {
    ec = native_error(static_cast<int>(GetLastError()));
    closesocket(static_cast<SOCKET>(fresh));
    return ec;
  }
  const native_handle_type old = h.fd;
  // The one option proact sets on a socket goes along.
  BOOL no_delay = FALSE;
  int length = static_cast<int>(sizeof(no_delay));
  if (getsockopt(static_cast<SOCKET>(old), IPPROTO_TCP, TCP_NODELAY,
                 reinterpret_cast<char*>(&no_delay), &length) == 0 &&
      no_delay)
    (void)sys::set_no_delay(fresh, true);
  h.fd = fresh;  // under h.lock, inside the gate: every user of fd is excluded
  h.connection.dissolved();
  // The public socket shows the new handle (unless its owner closed it).
  if (auto* owner = static_cast<tcp_socket*>(op_access::target(op));
      owner != nullptr && handle_access::fd(*owner) == old)
    handle_access::replace_fd(*owner, fresh);
  closesocket(static_cast<SOCKET>(old));
  return {};
}

std::error_code iocp_backend::bind_for_connect(iocp_handle& h, operation& op,
                                               const endpoint& remote) noexcept {
  // ConnectEx requires a bound socket; bind to the any-address (port 0)
  // unless the caller bound it. getsockname fails with WSAEINVAL if unbound.
  sockaddr_storage name{};
  int length = static_cast<int>(sizeof(name));
  if (getsockname(h.socket(), reinterpret_cast<sockaddr*>(&name), &length) == 0) return {};
  if (WSAGetLastError() != WSAEINVAL) return winsock::last_error();
  const endpoint any = endpoint::any(h.family, 0);
  for (int attempt = 0;; ++attempt) {
    if (bind(h.socket(), static_cast<const sockaddr*>(any.data()), static_cast<int>(any.size())) !=
        0)
      return winsock::last_error();
    // connect() picks its port knowing the destination; this bind does not.
    // The port it picked may be the one the connect goes to, on this host
    // (nothing listens there, or bind would have failed): the socket would
    // connect to itself (TCP simultaneous open) instead of being refused.
    // Wine (Linux's allocator) hands out a port just freed again soon.
    std::error_code ec;
    const endpoint local = sys::local_endpoint(h.fd, ec);
    if (ec || local.port() != remote.port() || attempt == 8) return ec;
    if ((ec = replace_socket(h, op))) return ec;
  }
}

}  // namespace proact::detail
