// Errors. Every failure is a std::error_code:
//  - failures reported by the operating system keep their native code
//    (errno in std::system_category() on Linux, the Win32/Winsock code in
//    proact::native_category() on Windows);
//  - failures detected by proact itself use proact::error in
//    proact::library_category().
// Compare either against the portable conditions in proact::errc:
//     if (c.error == proact::errc::operation_aborted) ...
// which holds on every backend.
#pragma once

#include <system_error>

#include "proact/export.hpp"

namespace proact {

// Portable error conditions (std::error_condition values).
enum class errc {
  operation_aborted = 1,  // cancelled, or its handle/port was closed
  eof,                    // orderly end of stream / end of file
  connection_reset,       // peer reset the connection (or the pipe broke)
  connection_refused,     // nothing listening at the address
  connection_aborted,     // connection aborted locally or by the network
  timed_out,              // wait() timeout, or a network timeout
  port_closed,            // the port was closed
  not_found,              // cancel: no such pending operation
  already_associated,     // handle is already associated with a port
  not_associated,         // operation on a handle that has no port
  operation_in_progress,  // operation object still in flight
  invalid_argument,       // bad argument (null, empty, too many buffers...)
  message_size,           // datagram truncated / too large
  address_in_use,         // bind: address already in use
  address_not_available,  // bind/connect: address not available here
  bad_handle,             // handle not open, closed, or not a socket
  network_unreachable,    // no route to the network
  host_unreachable,       // no route to the host
  not_connected,          // stream operation on an unconnected socket
  buffer_too_large,       // a transfer larger than proact::max_transfer_size
  backend_unavailable,    // the requested backend cannot run here
  no_resources,           // out of memory, descriptors or buffers
  already_connected,      // connect on a socket that is already connected
  shut_down,              // send after the send side was shut down locally
  not_on_loop,            // awaited operation of a handle on a raw port, not a loop
  host_not_found,         // resolve: no such host name (or no address of the family)
  try_again,              // resolve: temporary failure of the name service
  service_not_found,      // resolve: no such service name (or not for the socket type)
  file_exists,            // exclusive create of a file that exists
  // the platform or the file system cannot do this (preallocate)
  operation_not_supported,
  // TLS (tls_stream): each also holds the TLS engine's own code
  tls_handshake_failed,     // the handshake failed (any cause, verification included)
  tls_verification_failed,  // the peer's certificate (or its name) did not verify
  tls_truncated,            // the transport ended without the peer's close_notify
  // a pooled recv found its buffer_pool empty (nothing was consumed)
  pool_empty,
};

// Failures that proact detects itself (no operating-system code exists).
enum class error {
  eof = 1,
  port_closed,
  not_associated,
  already_associated,
  operation_in_progress,
  invalid_argument,
  bad_handle,
  buffer_too_large,
  backend_unavailable,
  timed_out,
  operation_aborted,
  not_found,
  not_connected,
  shut_down,
  not_on_loop,
  host_not_found,       // a reserved name that cannot exist (RFC 6761 ".invalid")
  not_numeric_address,  // endpoint::parse on a host name (invalid_argument)
  operation_not_supported,
  pool_empty,
};

PROACT_API const std::error_category& condition_category() noexcept;  // for proact::errc
PROACT_API const std::error_category& library_category() noexcept;    // for proact::error
// The category of native codes: std::system_category() on POSIX, a Win32
// category (FormatMessage text, Winsock codes included) on Windows.
PROACT_API const std::error_category& native_category() noexcept;
// The category of name-resolution failures: getaddrinfo's EAI_* codes on
// POSIX (EAI_SYSTEM comes as errno in native_category()); on Windows the
// Winsock codes (WSAHOST_NOT_FOUND, ...) are native, so this is
// native_category().
PROACT_API const std::error_category& resolver_category() noexcept;

inline std::error_condition make_error_condition(errc e) noexcept {
  return {static_cast<int>(e), condition_category()};
}
inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), library_category()};
}
// A native error code (errno, or GetLastError()/WSAGetLastError()).
inline std::error_code native_error(int code) noexcept {
  return {code, native_category()};
}

}  // namespace proact

template <>
struct std::is_error_condition_enum<proact::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<proact::error> : std::true_type {};
