#include "iocp_io.hpp"

#include <cstring>
#include <new>

#include "common/handle_access.hpp"
#include "common/pool_state.hpp"
#include "common/sys.hpp"
#include "proact/error.hpp"
#include "proact/file.hpp"
#include "proact/socket.hpp"
#include "wine_support.hpp"

namespace proact::detail {

namespace {

std::size_t requested_bytes(const operation& op) noexcept {
  const buffer* buffers = op_access::buffers(op);
  std::size_t total = 0;
  for (std::size_t i = 0; i < op_access::buffer_count(op); ++i) total += buffers[i].size;
  return total;
}

// Stack copy of the operation's buffers: Winsock captures the array during
// the call, so it need not outlive it.
struct wsabuf_list {
  WSABUF items[max_buffers];
  DWORD count = 0;

  explicit wsabuf_list(const operation& op) noexcept {
    const buffer* buffers = op_access::buffers(op);
    count = static_cast<DWORD>(op_access::buffer_count(op));
    for (DWORD i = 0; i < count; ++i) {
      items[i].len = static_cast<ULONG>(buffers[i].size);  // <= max_transfer_size
      items[i].buf = static_cast<char*>(buffers[i].data);
    }
  }
};

// The native code of a start call that returned `succeeded`.
std::error_code socket_call(bool succeeded) noexcept {
  return native_error(succeeded ? 0 : WSAGetLastError());
}
std::error_code handle_call(bool succeeded) noexcept {
  return native_error(succeeded ? 0 : static_cast<int>(GetLastError()));
}

// OVERLAPPED::InternalHigh: the byte count of a call that completed at once
// and has no out-parameter for it (or reported a warning). The I/O manager
// writes the status block before such a call returns.
DWORD immediate_bytes(const iocp_op& s) noexcept {
  return static_cast<DWORD>(s.overlapped.InternalHigh);
}

void set_offset(iocp_op& s, std::uint64_t offset) noexcept {
  s.overlapped.Offset = static_cast<DWORD>(offset & 0xffffffffu);
  s.overlapped.OffsetHigh = static_cast<DWORD>(offset >> 32);
}

std::error_code start_recv(iocp_handle& h, operation& op, iocp_op& s, DWORD& bytes) noexcept {
  if (h.kind == handle_kind::local_stream) {
    // A pipe takes one buffer per ReadFile; a stream recv completes with
    // what arrived, so filling the first non-empty buffer is enough.
    // An empty one (the readiness probe) gets a valid address all the same.
    static char probe;
    const buffer* buffers = op_access::buffers(op);
    buffer b{&probe, 0};
    for (std::size_t i = 0; i < op_access::buffer_count(op); ++i)
      if (buffers[i].size != 0) {
        b = buffers[i];
        break;
      }
    return handle_call(
        ReadFile(h.native(), b.data, static_cast<DWORD>(b.size), &bytes, &s.overlapped) != FALSE);
  }
  wsabuf_list list(op);
  DWORD flags = 0;
  return socket_call(
      WSARecv(h.socket(), list.items, list.count, &bytes, &flags, &s.overlapped, nullptr) == 0);
}

std::error_code start_pipe_send(iocp_handle& h, operation& op, iocp_op& s, DWORD& bytes) noexcept {
  const buffer* buffers = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  buffer b = buffers[0];
  if (count > 1) {
    // WriteFile takes one buffer, and one send's bytes must stay together
    // in the stream: a gather send on a pipe goes from a copy.
    b.size = requested_bytes(op);  // not 0: see start_empty_pipe_send
    s.bounce = new (std::nothrow) char[b.size];
    if (s.bounce == nullptr) return native_error(ERROR_NOT_ENOUGH_MEMORY);
    std::size_t at = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (buffers[i].size != 0) std::memcpy(s.bounce + at, buffers[i].data, buffers[i].size);
      at += buffers[i].size;
    }
    b.data = s.bounce;
  }
  return handle_call(
      WriteFile(h.native(), b.data, static_cast<DWORD>(b.size), &bytes, &s.overlapped) != FALSE);
}

std::error_code start_send(iocp_handle& h, operation& op, iocp_op& s, DWORD& bytes) noexcept {
  if (h.kind == handle_kind::local_stream) return start_pipe_send(h, op, s, bytes);
  wsabuf_list list(op);
  return socket_call(
      WSASend(h.socket(), list.items, list.count, &bytes, 0, &s.overlapped, nullptr) == 0);
}

std::error_code start_recv_from(iocp_handle& h, operation& op, iocp_op& s,
                                DWORD& bytes) noexcept {  // a truncation: see settle
  wsabuf_list list(op);
  DWORD flags = 0;
  // The source address goes straight into the caller's endpoint, which
  // stays valid until completion; its length into the operation's state.
  endpoint* source = op_access::address(op);
  sockaddr* from = source != nullptr ? static_cast<sockaddr*>(source->data()) : nullptr;
  s.from_length = static_cast<int>(endpoint::capacity());
  const int rc = WSARecvFrom(h.socket(), list.items, list.count, &bytes, &flags, from,
                             from != nullptr ? &s.from_length : nullptr, &s.overlapped, nullptr);
  return socket_call(rc == 0);
}

std::error_code start_send_to(iocp_handle& h, operation& op, iocp_op& s, DWORD& bytes) noexcept {
  wsabuf_list list(op);
  const endpoint* remote = op_access::address(op);
  return socket_call(WSASendTo(h.socket(), list.items, list.count, &bytes, 0,
                               static_cast<const sockaddr*>(remote->data()),
                               static_cast<int>(remote->size()), &s.overlapped, nullptr) == 0);
}

std::error_code start_file_io(iocp_handle& h, operation& op, iocp_op& s, DWORD& bytes) noexcept {
  const buffer b = op_access::buffers(op)[0];
  set_offset(s, op_access::offset(op));
  const auto size = static_cast<DWORD>(b.size);
  if (op_access::kind(op) == op_kind::read_at)
    return handle_call(ReadFile(h.native(), b.data, size, &bytes, &s.overlapped) != FALSE);
  return handle_call(WriteFile(h.native(), b.data, size, &bytes, &s.overlapped) != FALSE);
}

// send_file's head, range and tail together.
std::size_t send_file_total(const operation& op) noexcept {
  const send_file_buffers* around = op_access::send_file_around(op);
  const std::size_t count = op_access::send_file_count(op);
  return around == nullptr ? count : around->head.size + count + around->tail.size;
}

std::error_code start_send_file(iocp_handle& h, operation& op, iocp_op& s, DWORD& bytes) noexcept {
  const std::size_t count = op_access::send_file_count(op);
  const send_file_buffers* around = op_access::send_file_around(op);
  if (count == 0) {
    // TransmitFile reads 0 as "the whole file". No range: the head and the
    // tail, or a zero-length send that completes in its turn after the sends
    // before it.
    WSABUF parts[2] = {{0, nullptr}, {0, nullptr}};
    DWORD n = 0;
    if (around != nullptr) {
      for (const const_buffer& b : {around->head, around->tail}) {
        if (b.size == 0) continue;
        parts[n].buf = static_cast<char*>(const_cast<void*>(b.data));
        parts[n++].len = static_cast<ULONG>(b.size);
      }
    }
    return socket_call(
        WSASend(h.socket(), parts, n == 0 ? 1 : n, &bytes, 0, &s.overlapped, nullptr) == 0);
  }
  std::error_code ec;
  const winsock::extensions* ext = winsock::load_extensions(h.socket(), h.family, ec);
  if (ext == nullptr) return ec;
  const auto* source = static_cast<const file*>(op_access::target(op));
  const auto file_handle = reinterpret_cast<HANDLE>(source->native_handle());
  set_offset(s, op_access::offset(op));
  TRANSMIT_FILE_BUFFERS* buffers = nullptr;
  if (around != nullptr) {
    s.around.Head = const_cast<void*>(around->head.data);
    s.around.HeadLength = static_cast<DWORD>(around->head.size);
    s.around.Tail = const_cast<void*>(around->tail.data);
    s.around.TailLength = static_cast<DWORD>(around->tail.size);
    buffers = &s.around;
  }
  // The file's own position is not used: the OVERLAPPED's offset is.
  ec = socket_call(ext->transmit_file(h.socket(), file_handle, static_cast<DWORD>(count), 0,
                                      &s.overlapped, buffers, 0) != FALSE);
  if (!ec) bytes = immediate_bytes(s);
  return ec;
}

std::error_code start_accept(iocp_handle& h, iocp_op& s, DWORD& bytes) noexcept {
  s.accepted = INVALID_SOCKET;
  std::error_code ec;
  const winsock::extensions* ext = winsock::load_extensions(h.socket(), h.family, ec);
  if (ext == nullptr) return ec;
  const native_handle_type accepted = sys::open_tcp_socket(h.family, ec);
  if (ec) return ec;
  s.accepted = static_cast<SOCKET>(accepted);
  s.get_addresses = ext->get_accept_ex_sockaddrs;
  // On failure the socket is closed by io_outcome or, if refused, by settle.
  return socket_call(ext->accept_ex(h.socket(), s.accepted, s.addresses, 0,
                                    winsock::accept_address_length, winsock::accept_address_length,
                                    &bytes, &s.overlapped) != FALSE);
}

std::error_code start_connect(iocp_handle& h, iocp_op& s, const endpoint& remote) noexcept {
  std::error_code ec;
  const winsock::extensions* ext = winsock::load_extensions(h.socket(), h.family, ec);
  if (ext == nullptr) return ec;
  // Bound by iocp_backend::bind_for_connect, as ConnectEx requires.
  return socket_call(ext->connect_ex(h.socket(), static_cast<const sockaddr*>(remote.data()),
                                     static_cast<int>(remote.size()), nullptr, 0, nullptr,
                                     &s.overlapped) != FALSE);
}

// Codes that an operation ends with when its own handle is closed under it:
// Windows reports the cancellation or a local disconnect, Wine reports
// STATUS_HANDLES_CLOSED. When the close was ours they all mean "aborted".
bool closed_handle_code(int code) noexcept {
  switch (code) {
    case ERROR_OPERATION_ABORTED:
    case ERROR_REQUEST_ABORTED:
    case ERROR_HANDLES_CLOSED:
    case ERROR_NETNAME_DELETED:
    case ERROR_CONNECTION_ABORTED:
    case ERROR_INVALID_HANDLE:
    case ERROR_BROKEN_PIPE:
    case WSAENOTSOCK:
    case WSAECONNABORTED:
    case WSAECONNRESET:
    case WSAEINTR:
      return true;
    default:
      return false;
  }
}

// A completed AcceptEx: inherit the listener's properties, report the peer
// address, and hand the socket to the caller's tcp_socket.
std::error_code finish_accept(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  std::error_code ec;
  if (h.gate.enter()) {  // the listener is still open while we use it
    const SOCKET listener = h.socket();
    if (setsockopt(s.accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                   reinterpret_cast<const char*>(&listener), sizeof(listener)) != 0)
      ec = winsock::last_error();
    h.gate.leave();
  } else {
    ec = aborted();  // we closed the listener before this packet was dequeued
  }
  if (ec) {
    closesocket(s.accepted);
    return ec;
  }
  if (endpoint* peer = op_access::address(op)) {
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_length = 0;
    int remote_length = 0;
    s.get_addresses(s.addresses, 0, winsock::accept_address_length, winsock::accept_address_length,
                    &local, &local_length, &remote, &remote_length);
    *peer = endpoint{};
    if (remote != nullptr && remote_length > 0 &&
        static_cast<std::size_t>(remote_length) <= endpoint::capacity()) {
      std::memcpy(peer->data(), remote, static_cast<std::size_t>(remote_length));
      peer->resize(static_cast<std::size_t>(remote_length));
    }
  }
  auto* target = static_cast<tcp_socket*>(op_access::target(op));
  handle_access::set_fd(*target, static_cast<native_handle_type>(s.accepted), h.family,
                        handle_kind::tcp_stream);
  return {};
}

// A completed ConnectEx: make getpeername, shutdown and friends work.
std::error_code finish_connect(iocp_handle& h) noexcept {
  if (!h.gate.enter()) return aborted();
  std::error_code ec;
  if (setsockopt(h.socket(), SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0) != 0)
    ec = winsock::last_error();
  h.gate.leave();
  return ec;
}

// End of stream, unless the connection was reset (see below).
std::error_code end_of_stream(const iocp_handle& h) noexcept {
  const std::error_code eof = make_error_code(error::eof);
  if (h.kind != handle_kind::tcp_stream || h.connection.send_side_is_shut() ||
      !running_under_wine())
    return eof;
  // Wine reports a reset that arrived before the recv as an orderly end
  // (0 bytes) and keeps no error on the socket; a zero-byte send tells the
  // two apart (a connection the peer ended in order still takes it).
  if (send(h.socket(), nullptr, 0, 0) != 0 && WSAGetLastError() == WSAECONNRESET)
    return native_error(WSAECONNRESET);
  return eof;
}

// Whether a TCP socket whose send failed with WSAECONNRESET was in fact never
// connected: Windows answers WSAENOTCONN itself, Wine a reset. A socket that
// carried a connection is never taken for one that did not.
bool never_connected(const iocp_handle& h) noexcept {
  if (h.kind != handle_kind::tcp_stream || h.connection.established() || h.connection.failed() ||
      !running_under_wine())
    return false;
  sockaddr_storage peer{};
  int length = static_cast<int>(sizeof(peer));
  return getpeername(h.socket(), reinterpret_cast<sockaddr*>(&peer), &length) != 0 &&
         WSAGetLastError() == WSAENOTCONN;
}

// How many bytes a stream whose zero-length read completed holds (the
// caller is inside h.gate): eof (or the reset Wine hides) once the peer
// ended it and nothing is left.
std::error_code bytes_waiting(const iocp_handle& h, std::size_t& waiting) noexcept {
  waiting = 0;
  if (h.kind == handle_kind::local_stream) {
    // PeekNamedPipe fails with ERROR_BROKEN_PIPE once the other end is
    // closed and nothing is left to read.
    DWORD available = 0;
    if (!PeekNamedPipe(h.native(), nullptr, 0, nullptr, &available, nullptr)) {
      const DWORD code = GetLastError();
      return code == ERROR_BROKEN_PIPE ? make_error_code(error::eof)
                                       : native_error(static_cast<int>(code));
    }
    waiting = available;
    return {};
  }
  u_long count = 0;
  if (ioctlsocket(h.socket(), FIONREAD, &count) != 0) return winsock::last_error();
  waiting = count;
  return count == 0 ? end_of_stream(h) : std::error_code{};
}

// A zero-length recv completes when the stream becomes readable: data waits
// (left unconsumed: success) or the peer ended the stream (eof).
std::error_code zero_length_recv_result(iocp_handle& h) noexcept {
  if (!h.gate.enter()) return aborted();
  std::size_t waiting = 0;
  const std::error_code ec = bytes_waiting(h, waiting);
  h.gate.leave();
  return ec;
}

// A read of `size` bytes that the pipe holds already: it completes during
// the call. Its event's low bit set keeps its completion off the port.
// One event per thread that reads so, made on first use.
struct thread_event {
  HANDLE handle = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  thread_event() noexcept = default;
  thread_event(const thread_event&) = delete;
  thread_event& operator=(const thread_event&) = delete;
  ~thread_event() {
    if (handle != nullptr) CloseHandle(handle);
  }
};

bool read_pipe_now(HANDLE pipe, void* data, DWORD size, DWORD& got) noexcept {
  thread_local thread_event event;
  if (event.handle == nullptr) return false;
  OVERLAPPED ov{};
  ov.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(event.handle) | 1);
  if (ReadFile(pipe, data, size, &got, &ov) != FALSE) return true;
  return GetLastError() == ERROR_IO_PENDING && GetOverlappedResult(pipe, &ov, &got, TRUE) != FALSE;
}

// A pooled recv's zero-length read completed: the stream is readable. The
// bytes waiting go into a buffer taken from the pool now (a read of no
// more than is there, which cannot block); pool_empty if it has none, data
// left in place; eof at the end of the stream, no buffer taken.
std::error_code pooled_recv_result(iocp_handle& h, operation& op, std::size_t& bytes) noexcept {
  bytes = 0;
  if (!h.gate.enter()) return aborted();
  std::size_t waiting = 0;
  std::error_code ec = bytes_waiting(h, waiting);
  if (!ec && waiting == 0) ec = make_error_code(error::eof);  // a pipe read by another recv
  if (!ec && !take_pool_buffer(op)) ec = pool_empty();
  if (!ec) {
    const buffer b = op_access::buffers(op)[0];
    const auto size = static_cast<DWORD>(waiting < b.size ? waiting : b.size);
    if (h.kind == handle_kind::local_stream) {
      DWORD got = 0;
      if (read_pipe_now(h.native(), b.data, size, got))
        bytes = got;
      else
        ec = native_error(static_cast<int>(GetLastError()));
    } else {
      const int got = ::recv(h.socket(), static_cast<char*>(b.data), static_cast<int>(size), 0);
      if (got > 0)
        bytes = static_cast<std::size_t>(got);
      else
        ec = got == 0 ? end_of_stream(h) : winsock::last_error();
    }
    if (bytes == 0) put_back_pool_buffer(op);
  }
  h.gate.leave();
  return ec;
}

}  // namespace

std::error_code issue_io(iocp_handle& h, operation& op, iocp_op& s, const endpoint* remote,
                         DWORD& bytes) noexcept {
  bytes = 0;
  switch (op_access::kind(op)) {
    case op_kind::recv:
      return start_recv(h, op, s, bytes);
    case op_kind::send:
      return start_send(h, op, s, bytes);
    case op_kind::recv_from:
      return start_recv_from(h, op, s, bytes);
    case op_kind::send_to:
      return start_send_to(h, op, s, bytes);
    case op_kind::read_at:
    case op_kind::write_at:
      return start_file_io(h, op, s, bytes);
    case op_kind::send_file:
      return start_send_file(h, op, s, bytes);
    case op_kind::accept:
      return start_accept(h, s, bytes);
    case op_kind::connect:
      if (remote != nullptr) return start_connect(h, s, *remote);
      break;
    default:
      break;
  }
  return make_error_code(error::invalid_argument);
}

bool accept_at_once(iocp_handle& h, operation& op) noexcept {
  const SOCKET listener = h.socket();
  // Non-blocking for this call only: FIONBIO affects no overlapped call,
  // and none is pending on the listener (the caller checked, under h.lock).
  u_long on = 1;
  u_long off = 0;
  if (ioctlsocket(listener, FIONBIO, &on) != 0) return false;
  endpoint peer;
  int length = static_cast<int>(endpoint::capacity());
  const SOCKET accepted = ::accept(listener, static_cast<sockaddr*>(peer.data()), &length);
  ioctlsocket(listener, FIONBIO, &off);
  // Nothing waiting (WSAEWOULDBLOCK), or a failure that AcceptEx will
  // report in its own terms.
  if (accepted == INVALID_SOCKET) return false;
  // It inherits the listener's overlapped mode, and now its non-blocking
  // mode too: back to blocking, and not inheritable like every proact socket.
  ioctlsocket(accepted, FIONBIO, &off);
  SetHandleInformation(reinterpret_cast<HANDLE>(accepted), HANDLE_FLAG_INHERIT, 0);
  peer.resize(static_cast<std::size_t>(length));
  if (endpoint* out = op_access::address(op)) *out = peer;
  auto* target = static_cast<tcp_socket*>(op_access::target(op));
  handle_access::set_fd(*target, static_cast<native_handle_type>(accepted), h.family,
                        handle_kind::tcp_stream);
  return true;
}

void release_io(iocp_op& s) noexcept {
  delete[] s.bounce;
  s.bounce = nullptr;
}

bool completed_with_warning(const iocp_op& s) noexcept {
  const auto status = static_cast<std::uint32_t>(s.overlapped.Internal);
  return (status & 0xC0000000u) == 0x80000000u;
}

DWORD status_bytes(const iocp_op& s) noexcept {
  return immediate_bytes(s);
}

bool is_warning(int code) noexcept {
  return code == WSAEMSGSIZE || code == ERROR_MORE_DATA;
}

bool refused_at_start(op_kind kind, int code) noexcept {
  switch (code) {
    case WSAENOTSOCK:
    case WSANOTINITIALISED:
    case ERROR_INVALID_HANDLE:
      return true;
    case WSAEINVAL:
    case WSAEFAULT:
    case WSAEAFNOSUPPORT:
    case WSAEISCONN:
    case WSAEALREADY:
    case WSAEOPNOTSUPP:
      return kind == op_kind::connect;
    default:
      return false;
  }
}

std::error_code io_outcome(iocp_handle& h, operation& op, iocp_op& s, int code,
                           std::size_t& bytes) noexcept {
  release_io(s);
  if (code == pool_empty_code) return pool_empty();
  const op_kind kind = op_access::kind(op);
  if (kind == op_kind::recv_from && (code == 0 || is_warning(code))) {
    if (endpoint* source = op_access::address(op))
      source->resize(static_cast<std::size_t>(s.from_length));
  }
  if (code != 0) {
    if (kind == op_kind::accept && s.accepted != INVALID_SOCKET) {
      closesocket(s.accepted);
      s.accepted = INVALID_SOCKET;
    }
    if (h.gate.is_shut() && closed_handle_code(code)) return aborted();
    // The other end of a pipe was closed: end of stream, as for a socket.
    if (code == ERROR_BROKEN_PIPE && kind == op_kind::recv) return make_error_code(error::eof);
    if (code == WSAECONNRESET && (kind == op_kind::send || kind == op_kind::send_file) &&
        never_connected(h))
      return native_error(WSAENOTCONN);
    // A zero-length read has nothing to report, at the end of a file or not.
    if (code == ERROR_HANDLE_EOF && kind == op_kind::read_at && requested_bytes(op) == 0) return {};
    return result_of(code);  // WSAEMSGSIZE / ERROR_MORE_DATA: message_size, bytes that fit
  }
  switch (kind) {
    case op_kind::recv:
      if (pool_of(op) != nullptr) return pooled_recv_result(h, op, bytes);
      if (bytes != 0) return {};
      if (h.gate.is_shut()) return aborted();
      // A stream recv that got nothing into a non-empty buffer: end of stream.
      if (requested_bytes(op) > 0) return end_of_stream(h);
      return zero_length_recv_result(h);
    case op_kind::read_at:
      // Normally ERROR_HANDLE_EOF; a 0-byte success means the same.
      if (bytes == 0 && requested_bytes(op) > 0) return make_error_code(error::eof);
      return {};
    case op_kind::send_file:
      // TransmitFile stops at the end of the file, sends the tail and
      // reports success.
      if (bytes < send_file_total(op)) return make_error_code(error::eof);
      return {};
    case op_kind::accept:
      bytes = 0;
      return finish_accept(h, op, s);
    case op_kind::connect:
      bytes = 0;
      return finish_connect(h);
    default:
      return {};
  }
}

}  // namespace proact::detail
