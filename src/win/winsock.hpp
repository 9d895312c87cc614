// Winsock set-up shared by the Windows sources: WSAStartup once per process,
// and the Microsoft extension functions (AcceptEx, ConnectEx,
// GetAcceptExSockaddrs, TransmitFile) that are only reachable through WSAIoctl.
#pragma once

#include <mswsock.h>
#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <system_error>

#include "proact/endpoint.hpp"

// What a pending operation ends with when Wine closes its handle
// (STATUS_HANDLES_CLOSED). The Windows SDK's winerror.h has it; MinGW's lacks it.
#ifndef ERROR_HANDLES_CLOSED
#define ERROR_HANDLES_CLOSED 676L
#endif

namespace proact::detail::winsock {

// WSAStartup(2.2), done once; later calls return the first result.
std::error_code startup() noexcept;

// The last Winsock error as a native proact error code.
std::error_code last_error() noexcept;

int native_family(address_family family) noexcept;  // AF_INET / AF_INET6

// Extension functions of the provider that serves `family`. Loaded through
// `probe` (any socket of that family) the first time, then cached.
struct extensions {
  LPFN_ACCEPTEX accept_ex = nullptr;
  LPFN_CONNECTEX connect_ex = nullptr;
  LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs = nullptr;
  LPFN_TRANSMITFILE transmit_file = nullptr;
};
const extensions* load_extensions(SOCKET probe, address_family family,
                                  std::error_code& ec) noexcept;

// AcceptEx writes each address as a sockaddr followed by 16 bytes of its own.
inline constexpr DWORD accept_address_length = sizeof(sockaddr_in6) + 16;

}  // namespace proact::detail::winsock
