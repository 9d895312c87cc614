// Plain socket calls on POSIX. Sockets are non-blocking and close-on-exec from
// birth so that no backend needs an extra fcntl per handle.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/sys.hpp"
#include "proact/error.hpp"

namespace proact::detail::sys {
namespace {

std::error_code last_error() noexcept {
  return native_error(errno);
}

int domain_of(address_family family) noexcept {
  return family == address_family::ipv6 ? AF_INET6 : AF_INET;
}

native_handle_type open_stream(address_family family, std::error_code& ec) noexcept {
  const int fd = ::socket(domain_of(family), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ec = fd < 0 ? last_error() : std::error_code{};
  return fd;
}

}  // namespace

native_handle_type open_tcp_socket(address_family family, std::error_code& ec) noexcept {
  return open_stream(family, ec);
}

native_handle_type open_tcp_listener(address_family family, std::error_code& ec) noexcept {
  const int fd = open_stream(family, ec);
  if (fd < 0) return invalid_native_handle;
  // Restarting a server must not wait for TIME_WAIT connections to expire.
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    ec = last_error();
    ::close(fd);
    return invalid_native_handle;
  }
  return fd;
}

std::error_code close(native_handle_type fd) noexcept {
  // Linux releases the descriptor even when close reports EINTR: never retry.
  if (::close(fd) != 0 && errno != EINTR) return last_error();
  return {};
}

std::error_code bind(native_handle_type fd, const endpoint& local) noexcept {
  if (::bind(fd, static_cast<const sockaddr*>(local.data()),
             static_cast<socklen_t>(local.size())) != 0)
    return last_error();
  return {};
}

std::error_code listen(native_handle_type fd, int backlog) noexcept {
  if (::listen(fd, backlog) != 0) return last_error();
  return {};
}

std::error_code set_no_delay(native_handle_type fd, bool on) noexcept {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value)) != 0) return last_error();
  return {};
}

endpoint local_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  endpoint e;
  socklen_t len = static_cast<socklen_t>(endpoint::capacity());
  if (::getsockname(fd, static_cast<sockaddr*>(e.data()), &len) != 0) {
    ec = last_error();
    return {};
  }
  ec.clear();
  e.resize(len);
  return e;
}

endpoint remote_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  endpoint e;
  socklen_t len = static_cast<socklen_t>(endpoint::capacity());
  if (::getpeername(fd, static_cast<sockaddr*>(e.data()), &len) != 0) {
    ec = last_error();
    return {};
  }
  ec.clear();
  e.resize(len);
  return e;
}

}  // namespace proact::detail::sys
