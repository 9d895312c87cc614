// Windows' three views of one failure, and the thread's last error.
//
// A dequeued operation carries an NTSTATUS (in OVERLAPPED::Internal, as the
// kernel writes it); GetQueuedCompletionStatus and GetOverlappedResult report
// its Win32 value (a reset is ERROR_NETNAME_DELETED), WSAGetOverlappedResult
// its Winsock value (WSAECONNRESET). A call refused at start reports a
// Winsock value directly.
#pragma once

#include <system_error>

#include "proact/win32.h"

namespace proact::win32 {

inline constexpr DWORD status_cancelled = 0xC0000120u;

// The NTSTATUS of an operation's result (0 = success).
DWORD ntstatus_from(const std::error_code& ec) noexcept;
DWORD win32_from_ntstatus(DWORD status) noexcept;
int wsa_from_ntstatus(DWORD status) noexcept;
// The Winsock value of a refusal at start.
int wsa_from(const std::error_code& ec) noexcept;

// Sets the last error and returns the failure value of the caller.
inline int fail_wsa(int error) noexcept {
  WSASetLastError(error);
  return SOCKET_ERROR;
}
// For the BOOL-returning Winsock extensions (AcceptEx, ConnectEx).
inline BOOL refuse(int wsa_error) noexcept {
  WSASetLastError(wsa_error);
  return FALSE;
}
inline BOOL fail_win32(DWORD error) noexcept {
  SetLastError(error);
  return FALSE;
}

}  // namespace proact::win32
