// Winsock's plain calls: WSAStartup, WSASocket, bind, listen, closesocket,
// shutdown, getsockname, getpeername (socket options: socket_options.cpp).
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "native_socket.hpp"
#include "objects.hpp"
#include "sockaddr.hpp"
#include "status.hpp"

using namespace proact::win32;

namespace {

proact::address_family family_of(const socket_object& s) noexcept {
  return s.family == AF_INET6 ? proact::address_family::ipv6 : proact::address_family::ipv4;
}

int write_name(const proact::endpoint& e, sockaddr* name, int* namelen) {
  if (name == nullptr || namelen == nullptr) return fail_wsa(WSAEFAULT);
  const int n = sockaddr_from(e, name, *namelen);
  if (n == 0) return fail_wsa(WSAEFAULT);
  *namelen = n;
  return 0;
}

}  // namespace

int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData) {
  if (lpWSAData == nullptr) return WSAEFAULT;
  if (LOBYTE(wVersionRequested) < 2) return WSAVERNOTSUPPORTED;
  std::memset(lpWSAData, 0, sizeof *lpWSAData);
  lpWSAData->wVersion = MAKEWORD(2, 2);
  lpWSAData->wHighVersion = MAKEWORD(2, 2);
  std::strcpy(lpWSAData->szDescription, "proact Win32 layer");
  std::strcpy(lpWSAData->szSystemStatus, "Running");
  return 0;
}

int WSAAPI WSACleanup() {
  return 0;
}

SOCKET WSAAPI WSASocketA(int af, int type, int protocol, void* /*lpProtocolInfo*/, unsigned /*g*/,
                         DWORD /*dwFlags*/) {
  if (af != AF_INET && af != AF_INET6) {
    WSASetLastError(WSAEAFNOSUPPORT);
    return INVALID_SOCKET;
  }
  const bool stream = type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
  const bool datagram = type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP);
  if (!stream && !datagram) {
    WSASetLastError(WSAESOCKTNOSUPPORT);
    return INVALID_SOCKET;
  }
  // Every socket here is overlapped, as WSA_FLAG_OVERLAPPED asks.
  const SOCKET s = new_socket(af, type);
  if (s == INVALID_SOCKET || stream) return s;
  socket_object* so = find_socket(s);
  std::lock_guard lock(so->mutex);
  if (auto ec = so->udp.open(family_of(*so))) {
    close_socket_locked(*so);
    free_socket(so);
    WSASetLastError(wsa_from(ec));
    return INVALID_SOCKET;
  }
  so->role.store(socket_role::datagram, std::memory_order_release);
  return s;
}

SOCKET WSAAPI WSASocketW(int af, int type, int protocol, void* lpProtocolInfo, unsigned g,
                         DWORD dwFlags) {
  return WSASocketA(af, type, protocol, lpProtocolInfo, g, dwFlags);
}

SOCKET WSAAPI socket(int af, int type, int protocol) {
  return WSASocketA(af, type, protocol, nullptr, 0, WSA_FLAG_OVERLAPPED);
}

int WSAAPI bind(SOCKET s, const struct sockaddr* name, int namelen) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  proact::endpoint local;
  if (!endpoint_from(name, namelen, local)) return fail_wsa(WSAEFAULT);
  if (local.family() != family_of(*so)) return fail_wsa(WSAEAFNOSUPPORT);
  std::lock_guard lock(so->mutex);
  if (so->role.load(std::memory_order_acquire) == socket_role::datagram) {
    if (!so->bound.empty()) return fail_wsa(WSAEINVAL);
    if (auto ec = so->udp.bind(local)) return fail_wsa(wsa_from(ec));
    so->bound = local;
    return 0;
  }
  if (so->role.load(std::memory_order_acquire) != socket_role::unopened || !so->bound.empty()) {
    return fail_wsa(WSAEINVAL);
  }
  // Kept until listen or ConnectEx says which kind of socket this is.
  so->bound = local;
  return 0;
}

int WSAAPI listen(SOCKET s, int backlog) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  std::lock_guard lock(so->mutex);
  switch (so->role.load(std::memory_order_acquire)) {
    case socket_role::listener:
      return 0;
    case socket_role::stream:
      return fail_wsa(WSAEISCONN);
    case socket_role::datagram:
      return fail_wsa(WSAEOPNOTSUPP);
    case socket_role::unopened:
      break;
  }
  if (so->bound.empty()) return fail_wsa(WSAEINVAL);
  if (backlog <= 0 || backlog > proact::tcp_listener::default_backlog) {
    backlog = proact::tcp_listener::default_backlog;
  }
  if (auto ec = so->listener.listen(so->bound, backlog)) return fail_wsa(wsa_from(ec));
  apply_pending_options(*so, so->listener);
  if (auto ec = associate_with_port(*so, so->listener)) {
    (void)so->listener.close();
    return fail_wsa(wsa_from(ec));
  }
  so->role.store(socket_role::listener, std::memory_order_release);
  return 0;
}

int WSAAPI closesocket(SOCKET s) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  {
    std::unique_lock lock(so->mutex);
    if (so->closing.load(std::memory_order_acquire)) return fail_wsa(WSAENOTSOCK);
    // The target of a pending AcceptEx: closed when that accept is dequeued.
    if (so->accept_target.load(std::memory_order_acquire)) {
      so->close_deferred = true;
      return 0;
    }
    if (so->blocking_calls.load(std::memory_order_acquire) > 0) {
      // A blocking call waits on the descriptor: wake it (it then fails
      // with WSAEINTR) and close only once it has left.
      so->closing.store(true, std::memory_order_release);
      if (proact::handle* h = so->active()) shutdown_both(h->native_handle());
      lock.unlock();
      while (so->blocking_calls.load(std::memory_order_acquire) > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      lock.lock();
    }
    close_socket_locked(*so);
  }
  free_socket(so);
  return 0;
}

int WSAAPI shutdown(SOCKET s, int how) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  if (how != SD_RECEIVE && how != SD_SEND && how != SD_BOTH) return fail_wsa(WSAEINVAL);
  if (so->role.load(std::memory_order_acquire) != socket_role::stream) return fail_wsa(WSAENOTCONN);
  if (how != SD_RECEIVE && !so->send_shut.load(std::memory_order_acquire)) {
    if (auto ec = so->stream.shutdown_send()) return fail_wsa(wsa_from(ec));
    so->send_shut.store(true, std::memory_order_release);
  }
  // The receive side is only closed to the application: later receives fail
  // with WSAESHUTDOWN (WSARecv, recv). Linux's SHUT_RD would end pending
  // receives with 0 bytes instead, which Windows does not document.
  if (how != SD_SEND) so->recv_shut.store(true, std::memory_order_release);
  return 0;
}

int WSAAPI getsockname(SOCKET s, struct sockaddr* name, int* namelen) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  std::lock_guard lock(so->mutex);
  std::error_code ec;
  proact::endpoint local;
  switch (so->role.load(std::memory_order_acquire)) {
    case socket_role::listener:
      local = so->listener.local_endpoint(ec);
      break;
    case socket_role::stream:
      local = so->stream.local_endpoint(ec);
      break;
    case socket_role::datagram:
      local = so->udp.local_endpoint(ec);
      break;
    case socket_role::unopened:
      if (so->bound.empty()) return fail_wsa(WSAEINVAL);
      local = so->bound;
      break;
  }
  if (ec) return fail_wsa(wsa_from(ec));
  return write_name(local, name, namelen);
}

int WSAAPI getpeername(SOCKET s, struct sockaddr* name, int* namelen) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  if (so->role.load(std::memory_order_acquire) != socket_role::stream) return fail_wsa(WSAENOTCONN);
  std::error_code ec;
  const proact::endpoint peer = so->stream.remote_endpoint(ec);
  if (ec) return fail_wsa(wsa_from(ec));
  return write_name(peer, name, namelen);
}
