#include "native_socket.hpp"

#include <sys/socket.h>

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

}  // namespace proact::win32
