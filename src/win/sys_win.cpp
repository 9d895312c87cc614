// Plain socket calls on Winsock 2. Sockets are created overlapped (for IOCP)
// and not inheritable.
//
// Listener address reuse: Windows' default already behaves like POSIX
// SO_REUSEADDR for TCP listeners (a new listener may bind a port whose old
// connections linger in TIME_WAIT; binding a port that another socket holds
// fails with WSAEADDRINUSE), so no option is set. SO_REUSEADDR would let a
// second socket steal a port that is in active use, and SO_EXCLUSIVEADDRUSE
// would refuse the rebind while TIME_WAIT connections remain.
#include "common/sys.hpp"
#include "proact/error.hpp"
#include "winsock.hpp"

namespace proact::detail::sys {

namespace {

SOCKET as_socket(native_handle_type fd) noexcept {
  return static_cast<SOCKET>(fd);
}

native_handle_type open_stream(address_family family, std::error_code& ec) noexcept {
  ec = winsock::startup();
  if (ec) return invalid_native_handle;
  const SOCKET s = WSASocketW(winsock::native_family(family), SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                              WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) {
    ec = winsock::last_error();
    return invalid_native_handle;
  }
  ec.clear();
  return static_cast<native_handle_type>(s);
}

endpoint name_of(native_handle_type fd, bool peer, std::error_code& ec) noexcept {
  endpoint e;
  int length = static_cast<int>(endpoint::capacity());
  auto* address = static_cast<sockaddr*>(e.data());
  const int rc = peer ? getpeername(as_socket(fd), address, &length)
                      : getsockname(as_socket(fd), address, &length);
  if (rc != 0) {
    ec = winsock::last_error();
    return {};
  }
  ec.clear();
  e.resize(static_cast<std::size_t>(length));
  return e;
}

}  // namespace

native_handle_type open_tcp_socket(address_family family, std::error_code& ec) noexcept {
  return open_stream(family, ec);
}

native_handle_type open_tcp_listener(address_family family, std::error_code& ec) noexcept {
  return open_stream(family, ec);  // see the note on address reuse at the top
}

std::error_code close(native_handle_type fd) noexcept {
  if (closesocket(as_socket(fd)) != 0) return winsock::last_error();
  return {};
}

std::error_code bind(native_handle_type fd, const endpoint& local) noexcept {
  if (::bind(as_socket(fd), static_cast<const sockaddr*>(local.data()),
             static_cast<int>(local.size())) != 0)
    return winsock::last_error();
  return {};
}

std::error_code listen(native_handle_type fd, int backlog) noexcept {
  if (::listen(as_socket(fd), backlog) != 0) return winsock::last_error();
  return {};
}

std::error_code set_no_delay(native_handle_type fd, bool on) noexcept {
  const BOOL value = on ? TRUE : FALSE;
  if (setsockopt(as_socket(fd), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&value),
                 sizeof(value)) != 0)
    return winsock::last_error();
  return {};
}

endpoint local_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  return name_of(fd, false, ec);
}

endpoint remote_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  return name_of(fd, true, ec);
}

}  // namespace proact::detail::sys
