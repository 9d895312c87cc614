// Buffers: a pointer and a length, nothing more. On POSIX their layout matches
// struct iovec so that a span of them goes to the kernel as is.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace proact {

// The largest transfer one operation accepts (Linux's per-call limit; it also
// fits Windows' 32-bit WSABUF lengths). Larger requests fail with
// errc::buffer_too_large at start.
inline constexpr std::size_t max_transfer_size = 0x7ffff000;
// The most buffers one scatter/gather operation accepts.
inline constexpr std::size_t max_buffers = 64;

struct buffer {
  void* data = nullptr;
  std::size_t size = 0;
};

struct const_buffer {
  const void* data = nullptr;
  std::size_t size = 0;

  constexpr const_buffer() noexcept = default;
  constexpr const_buffer(const void* d, std::size_t n) noexcept : data(d), size(n) {}
  constexpr const_buffer(buffer b) noexcept : data(b.data), size(b.size) {}  // NOLINT
};

inline buffer make_buffer(void* data, std::size_t size) noexcept {
  return {data, size};
}
template <class T, std::size_t N>
buffer make_buffer(T (&array)[N]) noexcept {
  return {array, sizeof(array)};
}
inline const_buffer make_buffer(const void* data, std::size_t size) noexcept {
  return {data, size};
}
inline const_buffer make_buffer(std::string_view s) noexcept {
  return {s.data(), s.size()};
}

}  // namespace proact
