#include "sockaddr.hpp"

#include <cstring>

namespace proact::win32 {

bool endpoint_from(const sockaddr* sa, int length, proact::endpoint& out) noexcept {
  if (sa == nullptr) return false;
  std::size_t size = 0;
  if (sa->sa_family == AF_INET && length >= static_cast<int>(sizeof(sockaddr_in))) {
    out = proact::endpoint::any(address_family::ipv4, 0);
    size = sizeof(sockaddr_in);
  } else if (sa->sa_family == AF_INET6 && length >= static_cast<int>(sizeof(sockaddr_in6))) {
    out = proact::endpoint::any(address_family::ipv6, 0);
    size = sizeof(sockaddr_in6);
  } else {
    return false;
  }
  if (out.size() != size) return false;
  // Port, address (and flow info, scope) follow the 2-byte family on both.
  std::memcpy(static_cast<char*>(out.data()) + sizeof(ADDRESS_FAMILY),
              reinterpret_cast<const char*>(sa) + sizeof(ADDRESS_FAMILY),
              size - sizeof(ADDRESS_FAMILY));
  return true;
}

int sockaddr_from(const proact::endpoint& e, void* out, int capacity) noexcept {
  const auto size = static_cast<int>(e.size());
  if (size == 0 || size > capacity || out == nullptr) return 0;
  std::memcpy(out, e.data(), e.size());
  const ADDRESS_FAMILY family = e.family() == address_family::ipv6 ? AF_INET6 : AF_INET;
  std::memcpy(out, &family, sizeof family);
  return size;
}

}  // namespace proact::win32
