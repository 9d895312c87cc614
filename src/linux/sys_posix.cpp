// Plain socket calls on POSIX. Sockets are non-blocking and close-on-exec from
// birth so that no backend needs an extra fcntl per handle.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

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

// getsockname or getpeername into an endpoint.
endpoint endpoint_of(int (*query)(int, sockaddr*, socklen_t*), native_handle_type fd,
                     std::error_code& ec) noexcept {
  endpoint e;
  socklen_t len = static_cast<socklen_t>(endpoint::capacity());
  if (query(fd, static_cast<sockaddr*>(e.data()), &len) != 0) {
    ec = last_error();
    return {};
  }
  ec.clear();
  e.resize(len);
  return e;
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

native_handle_type open_udp_socket(address_family family, std::error_code& ec) noexcept {
  const int fd = ::socket(domain_of(family), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ec = fd < 0 ? last_error() : std::error_code{};
  return fd;
}

native_handle_type open_file(std::string_view path, file_mode mode, unsigned permissions,
                             std::error_code& ec) noexcept {
  // open() wants a terminated string; paths are short, so no allocation.
  char name[PATH_MAX];
  if (path.empty() || path.size() >= sizeof(name) || path.find('\0') != std::string_view::npos) {
    ec = make_error_code(error::invalid_argument);
    return invalid_native_handle;
  }
  std::memcpy(name, path.data(), path.size());
  name[path.size()] = '\0';
  int flags = O_CLOEXEC;
  const bool read = has(mode, file_mode::read);
  const bool write = has(mode, file_mode::write);
  flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
  if (has(mode, file_mode::create)) flags |= O_CREAT;
  if (has(mode, file_mode::truncate)) flags |= O_TRUNC;
  if (has(mode, file_mode::exclusive)) flags |= O_EXCL;
  int fd;
  do fd = ::open(name, flags, static_cast<mode_t>(permissions));
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    ec = last_error();
    return invalid_native_handle;
  }
  // Only regular files: a FIFO or device would block the file thread pool.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ec = ::fstat(fd, &st) != 0 ? last_error() : native_error(S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
    ::close(fd);
    return invalid_native_handle;
  }
  ec.clear();
  return fd;
}

std::error_code prepare_file(native_handle_type fd) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return make_error_code(error::bad_handle);
  // O_NONBLOCK: io_uring would end a read that must wait for the disk with
  // EAGAIN. O_DIRECT: reads and writes take any buffer and offset here.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_error();
  const int unwanted = O_NONBLOCK | O_DIRECT;
  if ((flags & unwanted) != 0 && ::fcntl(fd, F_SETFL, flags & ~unwanted) != 0) return last_error();
  return {};
}

std::uint64_t file_size(native_handle_type fd, std::error_code& ec) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ec = last_error();
    return 0;
  }
  ec.clear();
  return static_cast<std::uint64_t>(st.st_size);
}

std::error_code open_local_pair(native_handle_type& a, native_handle_type& b) noexcept {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
    return last_error();
  a = fds[0];
  b = fds[1];
  return {};
}

std::error_code prepare_local_stream(native_handle_type fd) noexcept {
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    return make_error_code(error::bad_handle);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return last_error();
  return {};
}

std::error_code shutdown_send(native_handle_type fd) noexcept {
  if (::shutdown(fd, SHUT_WR) != 0) return last_error();
  return {};
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
  return endpoint_of(::getsockname, fd, ec);
}

endpoint remote_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  return endpoint_of(::getpeername, fd, ec);
}

}  // namespace proact::detail::sys
