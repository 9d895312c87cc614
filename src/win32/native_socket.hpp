// The few socket options proact does not expose, set on the native socket,
// and removing a file. (Its own file: it needs the POSIX headers, which
// proact/win32.h replaces everywhere else in the layer.)
#pragma once

#include <system_error>

namespace proact::win32 {

// SO_LINGER on (with `seconds`), or off when seconds < 0. Closing a socket
// with linger on and 0 seconds resets the connection.
void set_linger(int fd, int seconds) noexcept;
// SO_SNDBUF / SO_RCVBUF; false if the kernel refused.
bool set_buffer_size(int fd, bool send, int bytes) noexcept;
// The kernel's SO_SNDBUF / SO_RCVBUF (Linux reports twice what was set, for
// its bookkeeping); -1 if it could not be read.
int buffer_size(int fd, bool send) noexcept;
// SO_KEEPALIVE on or off; false if the kernel refused.
bool set_keep_alive(int fd, bool on) noexcept;
// TCP_KEEPIDLE and TCP_KEEPINTVL (seconds), and TCP_KEEPCNT `probes`; false
// if the kernel refused.
bool set_keep_alive_times(int fd, int idle_seconds, int interval_seconds, int probes) noexcept;
// SO_ERROR: the socket's pending error as a std::error_code, cleared.
std::error_code pending_error(int fd) noexcept;
// shutdown(2) of both directions: wakes a thread waiting on the descriptor.
void shutdown_both(int fd) noexcept;
// unlink(2); the errno as a std::error_code.
std::error_code remove_file(const char* path) noexcept;

}  // namespace proact::win32
