// The system's name lookup, implemented once per platform
// (src/linux/resolve_posix.cpp: getaddrinfo; src/win/resolve_win.cpp:
// GetAddrInfoW). It blocks: the resolver calls it on its pool's threads only.
#pragma once

#include <string>
#include <system_error>
#include <vector>

#include "proact/endpoint.hpp"
#include "proact/resolver.hpp"

namespace proact::detail::sys {

// Appends the addresses of (host, service) to `out` (stream sockets, so one
// endpoint per address) in the system's order. An empty host or service is
// passed as none. Errors are the platform's resolver codes (see
// proact::resolver_category()).
std::error_code lookup(const std::string& host, const std::string& service,
                       const resolve_hints& hints, std::vector<endpoint>& out);

}  // namespace proact::detail::sys
