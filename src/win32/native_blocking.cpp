#include "native_blocking.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "proact/port.hpp"

namespace proact::win32 {
namespace {

std::error_code last_errno() noexcept {
  return {errno, std::generic_category()};
}

// Waits until the descriptor is ready for `events` (or has an error to
// report), or the wait is stopped.
std::error_code wait_for(const waited_fd& w, short events) noexcept {
  pollfd p{};
  p.fd = w.fd;
  p.events = events;
  const proact::blocking_scope blocked;  // another thread may take this one's place on its port
  for (;;) {
    const int n = ::poll(&p, 1, -1);
    if (w.stop.load(std::memory_order_acquire)) return {ECANCELED, std::generic_category()};
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return last_errno();
  }
}

}  // namespace

std::error_code connect_native(const waited_fd& w, const void* address,
                               std::size_t length) noexcept {
  if (::connect(w.fd, static_cast<const sockaddr*>(address), static_cast<socklen_t>(length)) == 0) {
    return {};
  }
  if (errno != EINPROGRESS && errno != EINTR) return last_errno();
  if (auto ec = wait_for(w, POLLOUT)) return ec;
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(w.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return last_errno();
  if (error != 0) return {error, std::generic_category()};
  return {};
}

std::error_code send_all_native(const waited_fd& w, const char* data, std::size_t length) noexcept {
  std::size_t sent = 0;
  // A zero-byte send is a send too (Winsock returns 0).
  while (sent < length || length == 0) {
    const ssize_t n = ::send(w.fd, data + sent, length - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      if (length == 0) break;
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno();
    if (auto ec = wait_for(w, POLLOUT)) return ec;
  }
  return {};
}

std::error_code recv_native(const waited_fd& w, char* data, std::size_t length, bool peek,
                            bool wait_all, std::size_t& received) noexcept {
  received = 0;
  const int flags = MSG_DONTWAIT | (peek ? MSG_PEEK : 0);
  for (;;) {
    const ssize_t n = ::recv(w.fd, data + received, length - received, flags);
    if (n > 0) {
      received += static_cast<std::size_t>(n);
      if (!wait_all || peek || received == length) return {};
      continue;
    }
    if (n == 0) return {};  // the peer's orderly end (or a zero-byte buffer)
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno();
    if (auto ec = wait_for(w, POLLIN)) return ec;
  }
}

std::error_code send_to_native(const waited_fd& w, const char* data, std::size_t length,
                               const void* to, std::size_t to_length) noexcept {
  for (;;) {
    const ssize_t n = ::sendto(w.fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL,
                               static_cast<const sockaddr*>(to), static_cast<socklen_t>(to_length));
    if (n >= 0) return {};
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno();
    if (auto ec = wait_for(w, POLLOUT)) return ec;
  }
}

std::error_code recv_from_native(const waited_fd& w, char* data, std::size_t length, bool peek,
                                 void* from, std::size_t& from_length, std::size_t& received,
                                 bool& truncated) noexcept {
  received = 0;
  truncated = false;
  // MSG_TRUNC: the datagram's real length, to tell a truncated one.
  const int flags = MSG_DONTWAIT | MSG_TRUNC | (peek ? MSG_PEEK : 0);
  for (;;) {
    auto size = static_cast<socklen_t>(from_length);
    const ssize_t n = ::recvfrom(w.fd, data, length, flags, static_cast<sockaddr*>(from), &size);
    if (n >= 0) {
      from_length = size;
      truncated = static_cast<std::size_t>(n) > length;
      received = truncated ? length : static_cast<std::size_t>(n);
      return {};
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno();
    if (auto ec = wait_for(w, POLLIN)) return ec;
  }
}

bool has_local_port(int fd) noexcept {
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0) return false;
  // The port sits at the same place in sockaddr_in and sockaddr_in6.
  return reinterpret_cast<const sockaddr_in*>(&local)->sin_port != 0;
}

}  // namespace proact::win32
