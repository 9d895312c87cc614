// The blocking socket calls (connect, send, recv, sendto, recvfrom) done on the native
// descriptor, which proact opened non-blocking: each call waits in poll(2)
// for the descriptor to be ready. (Its own file: it needs the POSIX headers,
// which proact/win32.h replaces everywhere else in the layer.)
#pragma once

#include <atomic>
#include <cstddef>
#include <system_error>

namespace proact::win32 {

// The descriptor of a blocking call, and the flag that ends its waits:
// closesocket sets it, then wakes the descriptor (a UDP socket shut down
// keeps polling ready without anything to receive). A call ended so fails
// with ECANCELED.
struct waited_fd {
  int fd;
  const std::atomic<bool>& stop;
};

// Connects the socket to the native sockaddr `address` (`length` bytes), waiting
// for the handshake. Errors are errno values (std::generic_category).
std::error_code connect_native(const waited_fd& w, const void* address,
                               std::size_t length) noexcept;
// Sends all `length` bytes, waiting for buffer space as often as needed;
// never raises SIGPIPE.
std::error_code send_all_native(const waited_fd& w, const char* data, std::size_t length) noexcept;
// Receives what is there (waiting until something is, or the peer's end:
// `received` 0). `peek` leaves the bytes queued; `wait_all` waits until
// `length` bytes came or the stream ended.
std::error_code recv_native(const waited_fd& w, char* data, std::size_t length, bool peek,
                            bool wait_all, std::size_t& received) noexcept;
// One datagram: sent whole to the native sockaddr `to` (`to_length` bytes).
std::error_code send_to_native(const waited_fd& w, const char* data, std::size_t length,
                               const void* to, std::size_t to_length) noexcept;
// One datagram, waiting until one is there: its first `length` bytes, the
// source into `from` (`from_length` bytes, in and out), `truncated` if it
// was longer. `peek` leaves it queued.
std::error_code recv_from_native(const waited_fd& w, char* data, std::size_t length, bool peek,
                                 void* from, std::size_t& from_length, std::size_t& received,
                                 bool& truncated) noexcept;
// Whether the socket has a local address (bound, or by a send).
bool has_local_port(int fd) noexcept;

}  // namespace proact::win32
