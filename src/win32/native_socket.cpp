#include "native_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace proact::win32 {

void set_linger(int fd, int seconds) noexcept {
  ::linger l{};
  l.l_onoff = seconds >= 0 ? 1 : 0;
  l.l_linger = seconds >= 0 ? seconds : 0;
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

bool set_buffer_size(int fd, bool send, int bytes) noexcept {
  return ::setsockopt(fd, SOL_SOCKET, send ? SO_SNDBUF : SO_RCVBUF, &bytes, sizeof bytes) == 0;
}

void shutdown_both(int fd) noexcept {
  (void)::shutdown(fd, SHUT_RDWR);
}

int buffer_size(int fd, bool send) noexcept {
  int bytes = 0;
  socklen_t length = sizeof bytes;
  if (::getsockopt(fd, SOL_SOCKET, send ? SO_SNDBUF : SO_RCVBUF, &bytes, &length) != 0) return -1;
  return bytes;
}

bool set_keep_alive(int fd, bool on) noexcept {
  const int value = on ? 1 : 0;
  return ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &value, sizeof value) == 0;
}

bool set_keep_alive_times(int fd, int idle_seconds, int interval_seconds, int probes) noexcept {
  const auto set = [fd](int name, int value) {
    return ::setsockopt(fd, IPPROTO_TCP, name, &value, sizeof value) == 0;
  };
  return set(TCP_KEEPIDLE, idle_seconds) && set(TCP_KEEPINTVL, interval_seconds) &&
         set(TCP_KEEPCNT, probes);
}

std::error_code pending_error(int fd) noexcept {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  return {error, std::system_category()};
}

std::error_code remove_file(const char* path) noexcept {
  if (::unlink(path) == 0) return {};
  return {errno, std::system_category()};
}

}  // namespace proact::win32
