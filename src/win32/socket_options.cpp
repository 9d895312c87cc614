// setsockopt and getsockopt. An option set before the socket's role is
// known (it has no handle yet) is kept and applied when the handle opens;
// getsockopt answers what was set, as Winsock does, rather than what Linux
// reports for it (Linux doubles buffer sizes).
#include <chrono>
#include <cstring>
#include <mutex>

#include "native_socket.hpp"
#include "objects.hpp"
#include "status.hpp"

using namespace proact::win32;

namespace {

// A BOOL option's value: Winsock takes one byte or more.
bool flag_of(const char* optval, int optlen) noexcept {
  if (optlen >= static_cast<int>(sizeof(int))) {
    int value = 0;
    std::memcpy(&value, optval, sizeof value);
    return value != 0;
  }
  return optval[0] != 0;
}

// Writes an int-sized answer; WSAEFAULT if it does not fit.
int answer(char* optval, int* optlen, int value) noexcept {
  if (*optlen < static_cast<int>(sizeof value)) return fail_wsa(WSAEFAULT);
  std::memcpy(optval, &value, sizeof value);
  *optlen = sizeof value;
  return 0;
}

// A BOOLEAN answer: one byte, as Winsock gives SO_KEEPALIVE and
// TCP_NODELAY (Wine, whose socket layer follows Windows' tests, agrees).
int answer_flag(char* optval, int* optlen, bool on) noexcept {
  if (*optlen < 1) return fail_wsa(WSAEFAULT);
  optval[0] = on ? 1 : 0;
  *optlen = 1;
  return 0;
}

// Seconds since the connection was made, or 0xFFFFFFFF while not connected
// (SO_CONNECT_TIME, which servers use to close accepted sockets that never
// sent their first data).
DWORD connect_time(const socket_object& so) noexcept {
  const std::int64_t at = so.connected_at.load(std::memory_order_acquire);
  if (at == 0) return 0xFFFFFFFFu;
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  return static_cast<DWORD>((now - at) / 1'000'000'000);
}

int get_socket_level(socket_object& so, int optname, char* optval, int* optlen) {
  proact::handle* h = so.active();
  switch (optname) {
    case SO_TYPE:
      return answer(optval, optlen, so.type);
    case SO_ERROR: {
      const std::error_code ec =
          h == nullptr ? std::error_code{} : pending_error(h->native_handle());
      return answer(optval, optlen, ec ? wsa_from(ec) : 0);
    }
    case SO_ACCEPTCONN:
      return answer(optval, optlen,
                    so.role.load(std::memory_order_acquire) == socket_role::listener ? 1 : 0);
    case SO_REUSEADDR:
      return answer(optval, optlen, so.reuse_address ? 1 : 0);
    case SO_KEEPALIVE:
      return answer_flag(optval, optlen, so.keep_alive);
    case SO_SNDBUF:
    case SO_RCVBUF: {
      const bool send = optname == SO_SNDBUF;
      int bytes = send ? so.send_buffer : so.receive_buffer;
      if (bytes < 0 && h != nullptr) bytes = buffer_size(h->native_handle(), send) / 2;
      if (bytes < 0) bytes = 65536;  // Windows' default
      return answer(optval, optlen, bytes);
    }
    case SO_CONNECT_TIME:
      return answer(optval, optlen, static_cast<int>(connect_time(so)));
    case SO_LINGER: {
      if (*optlen < static_cast<int>(sizeof(LINGER))) return fail_wsa(WSAEFAULT);
      LINGER l{};
      l.l_onoff = so.linger_seconds >= 0 ? 1 : 0;
      l.l_linger = static_cast<u_short>(so.linger_seconds >= 0 ? so.linger_seconds : 0);
      std::memcpy(optval, &l, sizeof l);
      *optlen = sizeof l;
      return 0;
    }
    default:
      return fail_wsa(WSAENOPROTOOPT);
  }
}

}  // namespace

int WSAAPI setsockopt(SOCKET s, int level, int optname, const char* optval, int optlen) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  if (level == SOL_SOCKET &&
      (optname == SO_UPDATE_ACCEPT_CONTEXT || optname == SO_UPDATE_CONNECT_CONTEXT)) {
    // The accepted or connected socket already has its full context here.
    return 0;
  }
  if (optval == nullptr || optlen < 1) return fail_wsa(WSAEFAULT);
  std::lock_guard lock(so->mutex);
  proact::handle* h = so->active();
  if (level == SOL_SOCKET && optname == SO_REUSEADDR) {
    // proact's listeners already rebind over TIME_WAIT connections, which is
    // what servers ask this for; Windows' further meaning (taking over a
    // port in active use) is not given.
    so->reuse_address = flag_of(optval, optlen);
    return 0;
  }
  if (level == SOL_SOCKET && optname == SO_KEEPALIVE) {
    so->keep_alive = flag_of(optval, optlen);
    if (h != nullptr && !set_keep_alive(h->native_handle(), so->keep_alive))
      return fail_wsa(WSAEINVAL);
    return 0;
  }
  if (level == SOL_SOCKET && optname == SO_LINGER) {
    if (optlen < static_cast<int>(sizeof(LINGER))) return fail_wsa(WSAEFAULT);
    LINGER l{};
    std::memcpy(&l, optval, sizeof l);
    so->linger_seconds = l.l_onoff != 0 ? l.l_linger : -1;
    if (h != nullptr) set_linger(h->native_handle(), so->linger_seconds);
    return 0;
  }
  if (level == IPPROTO_TCP && optname == TCP_NODELAY) {
    so->no_delay = flag_of(optval, optlen);
    if (so->role.load(std::memory_order_acquire) == socket_role::stream) {
      if (auto ec = so->stream.set_no_delay(so->no_delay)) return fail_wsa(wsa_from(ec));
    }
    return 0;
  }
  if (level == SOL_SOCKET && (optname == SO_SNDBUF || optname == SO_RCVBUF)) {
    if (optlen < static_cast<int>(sizeof(int))) return fail_wsa(WSAEFAULT);
    int bytes = 0;
    std::memcpy(&bytes, optval, sizeof bytes);
    if (bytes < 0) return fail_wsa(WSAEINVAL);
    const bool send = optname == SO_SNDBUF;
    if (h != nullptr && !set_buffer_size(h->native_handle(), send, bytes))
      return fail_wsa(WSAEINVAL);
    (send ? so->send_buffer : so->receive_buffer) = bytes;
    return 0;
  }
  return fail_wsa(WSAENOPROTOOPT);
}

int WSAAPI getsockopt(SOCKET s, int level, int optname, char* optval, int* optlen) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  if (optval == nullptr || optlen == nullptr) return fail_wsa(WSAEFAULT);
  std::lock_guard lock(so->mutex);
  if (level == SOL_SOCKET) return get_socket_level(*so, optname, optval, optlen);
  if (level == IPPROTO_TCP && optname == TCP_NODELAY)
    return answer_flag(optval, optlen, so->no_delay);
  return fail_wsa(level == IPPROTO_TCP ? WSAENOPROTOOPT : WSAEINVAL);
}
