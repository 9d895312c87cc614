// Platform facts the public headers need. This and export.hpp are the only
// public headers that look at the platform; everything else is written
// against these names.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proact {

#if defined(_WIN32)
// A SOCKET or HANDLE, both pointer-sized on Windows.
using native_handle_type = std::uintptr_t;
inline constexpr native_handle_type invalid_native_handle = ~native_handle_type{0};
#else
using native_handle_type = int;
inline constexpr native_handle_type invalid_native_handle = -1;
#endif

namespace detail {
// Bytes reserved inside every proact::operation for the backend's per-operation
// state (an OVERLAPPED and AcceptEx address buffer on Windows; queue links,
// progress and a msghdr on Linux). Backends static_assert that they fit.
#if defined(_WIN32)
inline constexpr std::size_t op_backend_storage = 192;
#else
inline constexpr std::size_t op_backend_storage = 128;
#endif
}  // namespace detail

}  // namespace proact
