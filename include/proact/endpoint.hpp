// An IPv4 or IPv6 address and port, stored as the platform's sockaddr bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "proact/export.hpp"

namespace proact {

enum class address_family : std::uint8_t { unspecified, ipv4, ipv6 };

class PROACT_API endpoint {
 public:
  endpoint() noexcept = default;

  // Parses a numeric address ("127.0.0.1", "::1"); errc::invalid_argument
  // (error::not_numeric_address, whose message says so) if it is not one:
  // host names such as "localhost" are looked up with proact::resolver.
  static endpoint parse(std::string_view address, std::uint16_t port, std::error_code& ec);
  static endpoint loopback(address_family family, std::uint16_t port) noexcept;
  static endpoint any(address_family family, std::uint16_t port) noexcept;

  address_family family() const noexcept;
  std::uint16_t port() const noexcept;
  void set_port(std::uint16_t port) noexcept;
  std::string address() const;    // "127.0.0.1", "::1"
  std::string to_string() const;  // "127.0.0.1:80", "[::1]:80"
  bool empty() const noexcept { return size_ == 0; }

  // The native sockaddr: what bind/connect/accept take and fill.
  void* data() noexcept { return storage_; }
  const void* data() const noexcept { return storage_; }
  std::size_t size() const noexcept { return size_; }
  static constexpr std::size_t capacity() noexcept { return sizeof(storage_); }
  // Sets the size after the kernel filled data(); invalid sizes leave it empty.
  void resize(std::size_t n) noexcept {
    size_ = n <= capacity() ? static_cast<std::uint32_t>(n) : 0;
  }

  friend PROACT_API bool operator==(const endpoint& a, const endpoint& b) noexcept;

 private:
  // sizeof(sockaddr_in6) is 28 on Linux and Windows.
  alignas(8) unsigned char storage_[28] = {};
  std::uint32_t size_ = 0;
};

}  // namespace proact
