// <mstcpip.h> for a Win32 source built on Linux over proact: the Win32 names
// come from proact/win32.h (see docs/win32.md for what exists), and the TCP
// keep-alive values are declared here, where Windows declares them: sources
// that do not include <mstcpip.h> often declare struct tcp_keepalive and
// SIO_KEEPALIVE_VALS themselves after <winsock2.h>, which must still compile.
#pragma once
#include "proact/win32.h"

// WSAIoctl(SIO_KEEPALIVE_VALS)'s input: keep-alive on or off and, when on,
// the idle time before the first probe and the time between probes, in
// milliseconds.
struct tcp_keepalive {
  ULONG onoff;
  ULONG keepalivetime;
  ULONG keepaliveinterval;
};

// Spelled token for token as the SDK does (see _WSAIOW in win32.h).
// clang-format off
#define SIO_KEEPALIVE_VALS _WSAIOW(IOC_VENDOR,4)
// clang-format on
