// The few socket options proact does not expose, set on the native socket.
// (Its own file: it needs the POSIX socket headers, which proact/win32.h
// replaces everywhere else in the layer.)
#pragma once

namespace proact::win32 {

// SO_LINGER on (with `seconds`), or off when seconds < 0. Closing a socket
// with linger on and 0 seconds resets the connection.
void set_linger(int fd, int seconds) noexcept;
// SO_SNDBUF / SO_RCVBUF; false if the kernel refused.
bool set_buffer_size(int fd, bool send, int bytes) noexcept;

}  // namespace proact::win32
