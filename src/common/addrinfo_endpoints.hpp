// The endpoints of an address-info list (getaddrinfo's addrinfo, Windows'
// ADDRINFOW): the IPv4 and IPv6 entries, in the resolver's order.
#pragma once

#include <cstring>
#include <vector>

#include "proact/endpoint.hpp"

namespace proact::detail {

// The platform's AF_INET and AF_INET6 values are the caller's: common code
// includes no socket header.
template <class AddrInfo>
void append_endpoints(const AddrInfo* list, int af_inet, int af_inet6, std::vector<endpoint>& out) {
  for (const AddrInfo* a = list; a != nullptr; a = a->ai_next) {
    if ((a->ai_family != af_inet && a->ai_family != af_inet6) ||
        a->ai_addrlen > endpoint::capacity())
      continue;
    endpoint e;
    std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
    e.resize(a->ai_addrlen);
    out.push_back(e);
  }
}

}  // namespace proact::detail
