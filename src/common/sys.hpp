// Plain (synchronous) socket calls the neutral layer needs, implemented once
// per platform (src/linux/sys_posix.cpp, src/win/sys_win.cpp). Sockets are
// created ready for the platform's backends: non-blocking and close-on-exec on
// POSIX, overlapped on Windows.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "proact/detail/config.hpp"
#include "proact/endpoint.hpp"
#include "proact/file.hpp"

namespace proact::detail::sys {

native_handle_type open_tcp_socket(address_family family, std::error_code& ec) noexcept;
// A listening-to-be socket with address reuse enabled.
native_handle_type open_tcp_listener(address_family family, std::error_code& ec) noexcept;
native_handle_type open_udp_socket(address_family family, std::error_code& ec) noexcept;
// A regular file for positional asynchronous I/O; `path` is UTF-8.
// `permissions` (POSIX mode bits) apply if it is created.
native_handle_type open_file(std::string_view path, file_mode mode, unsigned permissions,
                             std::error_code& ec) noexcept;
// file::adopt: bad_handle unless `fd` is an open regular file; readies it
// for the backends (blocking on POSIX).
std::error_code prepare_file(native_handle_type fd) noexcept;
std::uint64_t file_size(native_handle_type fd, std::error_code& ec) noexcept;
// file::set_size and file::preallocate (src/linux/file_space.cpp,
// src/win/file_space.cpp); sizes and offsets below 2^63.
std::error_code set_file_size(native_handle_type fd, std::uint64_t size) noexcept;
std::error_code preallocate_file(native_handle_type fd, std::uint64_t offset,
                                 std::uint64_t length) noexcept;
// A connected local byte-stream pair (socketpair / named pipe).
std::error_code open_local_pair(native_handle_type& a, native_handle_type& b) noexcept;
// local_stream::adopt: bad_handle unless `fd` is what a local stream is made
// of here (a stream socket on POSIX, a pipe on Windows); readies it for the
// backends (non-blocking on POSIX).
std::error_code prepare_local_stream(native_handle_type fd) noexcept;
std::error_code shutdown_send(native_handle_type fd) noexcept;
std::error_code close(native_handle_type fd) noexcept;
std::error_code bind(native_handle_type fd, const endpoint& local) noexcept;
std::error_code listen(native_handle_type fd, int backlog) noexcept;
std::error_code set_no_delay(native_handle_type fd, bool on) noexcept;
endpoint local_endpoint(native_handle_type fd, std::error_code& ec) noexcept;
endpoint remote_endpoint(native_handle_type fd, std::error_code& ec) noexcept;

}  // namespace proact::detail::sys
