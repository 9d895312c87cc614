// Buffers: a pointer and a length, nothing more. On POSIX their layout matches
// struct iovec so that a span of them goes to the kernel as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

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

// A buffer that a buffer_pool lent to a pooled recv's completion
// (operation::pooled()): `data` is the whole buffer, the completion's bytes
// say how much of it holds what arrived. It is the caller's until
// buffer_pool::release(id).
struct pooled_buffer {
  static constexpr std::uint32_t none = 0xffff;
  std::uint32_t id = none;
  buffer data;
  explicit operator bool() const noexcept { return id != none; }
};

inline buffer make_buffer(void* data, std::size_t size) noexcept {
  return {data, size};
}
inline const_buffer make_buffer(const void* data, std::size_t size) noexcept {
  return {data, size};
}
inline const_buffer make_buffer(std::string_view s) noexcept {
  return {s.data(), s.size()};
}
// The bytes of a contiguous container or view of trivially copyable elements:
// an array, std::array, std::vector, std::string, std::span. Mutable elements
// give a (mutable) buffer, const ones a const_buffer; a temporary container
// is refused (its bytes would be gone before the operation completes).
template <class R>
requires std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
    std::ranges::borrowed_range<R> && std::is_trivially_copyable_v<std::ranges::range_value_t<R>>
auto make_buffer(R&& r) noexcept {
  using element = std::remove_reference_t<std::ranges::range_reference_t<R>>;
  const std::size_t bytes = std::ranges::size(r) * sizeof(element);
  if constexpr (std::is_const_v<element>) {
    return const_buffer{std::ranges::data(r), bytes};
  } else {
    return buffer{std::ranges::data(r), bytes};
  }
}

}  // namespace proact
