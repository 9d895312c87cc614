#include "native_socket.hpp"

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

std::error_code remove_file(const char* path) noexcept {
  if (::unlink(path) == 0) return {};
  return {errno, std::system_category()};
}

}  // namespace proact::win32
