// Per-platform mapping of native error codes to the portable conditions,
// implemented in src/linux/native_error.cpp and src/win/native_error.cpp.
#pragma once

#include <system_error>

#include "proact/error.hpp"

namespace proact::detail {

// The portable condition of a native code (errno on POSIX, Win32/Winsock
// code on Windows), or 0 when it has none.
int native_condition(int code) noexcept;

// The portable condition of a std::generic_category() (POSIX errno) value,
// shared by every platform.
int generic_condition(int code) noexcept;

}  // namespace proact::detail
