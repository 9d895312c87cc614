// Windows sockaddr bytes <-> proact::endpoint. The layouts of sockaddr_in
// and sockaddr_in6 are the same on both systems; only the AF_INET6 value
// differs (23 on Windows), so a conversion copies the bytes after the family.
#pragma once

#include "proact/endpoint.hpp"
#include "proact/win32.h"

namespace proact::win32 {

// False if the address is null, too short or of another family.
bool endpoint_from(const sockaddr* sa, int length, proact::endpoint& out) noexcept;
// Writes the Windows form of `e` into `out`; its length, or 0 if it does not fit.
int sockaddr_from(const proact::endpoint& e, void* out, int capacity) noexcept;

}  // namespace proact::win32
