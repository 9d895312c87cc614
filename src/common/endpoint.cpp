#include "proact/endpoint.hpp"

#include <cstring>
#include <string>

#include "platform_net.hpp"
#include "proact/error.hpp"

namespace proact {
namespace {

static_assert(sizeof(sockaddr_in6) <= endpoint::capacity());

sockaddr_in make_v4(std::uint16_t port, const in_addr& addr) noexcept {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr = addr;
  return sa;
}

sockaddr_in6 make_v6(std::uint16_t port, const in6_addr& addr) noexcept {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  sa.sin6_addr = addr;
  return sa;
}

template <class SockAddr>
endpoint from_sockaddr(const SockAddr& sa) noexcept {
  endpoint e;
  std::memcpy(e.data(), &sa, sizeof(sa));
  e.resize(sizeof(sa));
  return e;
}

}  // namespace

endpoint endpoint::parse(std::string_view address, std::uint16_t port, std::error_code& ec) {
  ec.clear();
  std::string text(address);  // inet_pton wants a terminated string
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return from_sockaddr(make_v4(port, v4));
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return from_sockaddr(make_v6(port, v6));
  // Numeric only: a host name ("localhost") needs a lookup, which may block;
  // the message points to proact::resolver. Still errc::invalid_argument.
  ec = make_error_code(error::not_numeric_address);
  return {};
}

endpoint endpoint::loopback(address_family family, std::uint16_t port) noexcept {
  if (family == address_family::ipv6) {
    in6_addr a{};
    a.s6_addr[15] = 1;
    return from_sockaddr(make_v6(port, a));
  }
  in_addr a{};
  a.s_addr = htonl(INADDR_LOOPBACK);
  return from_sockaddr(make_v4(port, a));
}

endpoint endpoint::any(address_family family, std::uint16_t port) noexcept {
  if (family == address_family::ipv6) return from_sockaddr(make_v6(port, in6_addr{}));
  in_addr a{};
  a.s_addr = htonl(INADDR_ANY);
  return from_sockaddr(make_v4(port, a));
}

address_family endpoint::family() const noexcept {
  if (size_ == 0) return address_family::unspecified;
  sockaddr sa{};
  std::memcpy(&sa, storage_, sizeof(sa));  // sizeof(sockaddr) <= capacity()
  if (sa.sa_family == AF_INET) return address_family::ipv4;
  if (sa.sa_family == AF_INET6) return address_family::ipv6;
  return address_family::unspecified;
}

std::uint16_t endpoint::port() const noexcept {
  // sin_port and sin6_port sit at the same offset.
  static_assert(offsetof(sockaddr_in, sin_port) == offsetof(sockaddr_in6, sin6_port));
  if (family() == address_family::unspecified) return 0;
  std::uint16_t p = 0;
  std::memcpy(&p, storage_ + offsetof(sockaddr_in, sin_port), sizeof(p));
  return ntohs(p);
}

void endpoint::set_port(std::uint16_t port) noexcept {
  if (family() == address_family::unspecified) return;
  const std::uint16_t p = htons(port);
  std::memcpy(storage_ + offsetof(sockaddr_in, sin_port), &p, sizeof(p));
}

std::string endpoint::address() const {
  char text[64] = {};
  switch (family()) {
    case address_family::ipv4: {
      sockaddr_in sa{};
      std::memcpy(&sa, storage_, sizeof(sa));
      if (!inet_ntop(AF_INET, &sa.sin_addr, text, sizeof(text))) return {};
      return text;
    }
    case address_family::ipv6: {
      sockaddr_in6 sa{};
      std::memcpy(&sa, storage_, sizeof(sa));
      if (!inet_ntop(AF_INET6, &sa.sin6_addr, text, sizeof(text))) return {};
      return text;
    }
    default:
      return {};
  }
}

std::string endpoint::to_string() const {
  switch (family()) {
    case address_family::ipv4: {
      std::string text = address();
      text += ':';
      text += std::to_string(port());
      return text;
    }
    case address_family::ipv6: {
      std::string text = "[";  // appended in place: GCC 12 -O3 misreports -Wrestrict on a + chain
      text += address();
      text += "]:";
      text += std::to_string(port());
      return text;
    }
    default:
      return "unspecified";
  }
}

bool operator==(const endpoint& a, const endpoint& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(a.storage_, b.storage_, a.size_) == 0;
}

}  // namespace proact
