// The BSD socket names that backend-neutral code (src/common) may use, from
// Winsock 2. CMake defines WIN32_LEAN_AND_MEAN, NOMINMAX and _WIN32_WINNT for
// the Windows build, so this header stays a plain include list.
#pragma once

#include <winsock2.h>
#include <ws2tcpip.h>
