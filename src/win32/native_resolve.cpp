#include "native_resolve.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "wide.hpp"

namespace proact::win32::native {
namespace {

bool native_family(int win_family, int& out) noexcept {
  switch (win_family) {
    case win_af_unspec:
      out = AF_UNSPEC;
      return true;
    case win_af_inet:
      out = AF_INET;
      return true;
    case win_af_inet6:
      out = AF_INET6;
      return true;
    default:
      return false;
  }
}

// The flags both systems have, bit by bit (their values differ); Windows'
// others (AI_FQDN, AI_SECURE...) ask for what a plain resolver does not do
// and are left out.
int native_flags(int win) noexcept {
  int out = 0;
  if ((win & win_ai_passive) != 0) out |= AI_PASSIVE;
  if ((win & win_ai_canonname) != 0) out |= AI_CANONNAME;
  if ((win & win_ai_numerichost) != 0) out |= AI_NUMERICHOST;
  if ((win & win_ai_numericserv) != 0) out |= AI_NUMERICSERV;
  if ((win & win_ai_all) != 0) out |= AI_ALL;
  if ((win & win_ai_addrconfig) != 0) out |= AI_ADDRCONFIG;
  if ((win & win_ai_v4mapped) != 0) out |= AI_V4MAPPED;
  return out;
}

int win_error(int eai) noexcept {
  switch (eai) {
    case EAI_NONAME:
      return wsa_host_not_found;
    case EAI_AGAIN:
      return wsa_try_again;
    case EAI_NODATA:
    case EAI_ADDRFAMILY:  // the host has no address of that family
      return wsa_no_data;
    case EAI_FAMILY:
      return wsa_eafnosupport;
    case EAI_SOCKTYPE:
      return wsa_esocktnosupport;
    case EAI_SERVICE:
      return wsa_type_not_found;
    case EAI_MEMORY:
      return win_error_not_enough_memory;
    case EAI_BADFLAGS:
      return wsa_einval;
    default:
      return wsa_no_recovery;
  }
}

// Windows' getnameinfo flags as glibc's; false if one is unknown.
bool native_name_flags(int win, int& out) noexcept {
  constexpr int known =
      win_ni_nofqdn | win_ni_numerichost | win_ni_namereqd | win_ni_numericserv | win_ni_dgram;
  if ((win & ~known) != 0) return false;
  out = 0;
  if ((win & win_ni_nofqdn) != 0) out |= NI_NOFQDN;
  if ((win & win_ni_numerichost) != 0) out |= NI_NUMERICHOST;
  if ((win & win_ni_namereqd) != 0) out |= NI_NAMEREQD;
  if ((win & win_ni_numericserv) != 0) out |= NI_NUMERICSERV;
  if ((win & win_ni_dgram) != 0) out |= NI_DGRAM;
  return true;
}

// One Windows entry for a glibc one, in a single allocation; nullptr when
// its family is not IPv4 or IPv6 (not reachable through Windows' names).
win_addrinfo* convert(const addrinfo& ai, bool wide, int& error) noexcept {
  int family = 0;
  std::size_t size = 0;
  if (ai.ai_family == AF_INET && ai.ai_addrlen >= sizeof(sockaddr_in)) {
    family = win_af_inet;
    size = sizeof(sockaddr_in);
  } else if (ai.ai_family == AF_INET6 && ai.ai_addrlen >= sizeof(sockaddr_in6)) {
    family = win_af_inet6;
    size = sizeof(sockaddr_in6);
  } else {
    return nullptr;
  }
  std::wstring wide_name;
  if (wide && ai.ai_canonname != nullptr && !wide_from_utf8(ai.ai_canonname, wide_name)) {
    wide_name.clear();  // not UTF-8: no name rather than a wrong one
  }
  std::size_t name = 0;
  if (ai.ai_canonname != nullptr) {
    name = wide ? (wide_name.size() + 1) * sizeof(wchar_t) : std::strlen(ai.ai_canonname) + 1;
  }
  auto* block = static_cast<char*>(std::malloc(sizeof(win_addrinfo) + size + name));
  if (block == nullptr) {
    error = win_error_not_enough_memory;
    return nullptr;
  }
  auto* e = reinterpret_cast<win_addrinfo*>(block);
  e->flags = 0;
  e->family = family;
  e->socktype = ai.ai_socktype;
  e->protocol = ai.ai_protocol;
  e->addrlen = size;
  e->addr = block + sizeof(win_addrinfo);
  // sockaddr_in and sockaddr_in6 have the same layout on both systems; only
  // the 16-bit family value differs.
  std::memcpy(e->addr, ai.ai_addr, size);
  const auto win_family = static_cast<std::uint16_t>(family);
  std::memcpy(e->addr, &win_family, sizeof win_family);
  e->canonname = nullptr;
  if (name > 0) {
    e->canonname = block + sizeof(win_addrinfo) + size;
    // A wchar_t name lands at an offset that is a multiple of 4 (the entry
    // and the sockaddrs are), so it is aligned.
    std::memcpy(e->canonname, wide ? static_cast<const void*>(wide_name.c_str()) : ai.ai_canonname,
                name);
  }
  e->next = nullptr;
  return e;
}

}  // namespace

int resolve(const char* node, const char* service, const win_addrinfo* hints, win_addrinfo** out,
            bool wide) noexcept {
  if (out == nullptr) return wsa_einval;
  *out = nullptr;
  addrinfo native_hints{};
  const addrinfo* use_hints = nullptr;
  if (hints != nullptr) {
    if (!native_family(hints->family, native_hints.ai_family)) return wsa_eafnosupport;
    native_hints.ai_flags = native_flags(hints->flags);
    native_hints.ai_socktype = hints->socktype;
    native_hints.ai_protocol = hints->protocol;
    use_hints = &native_hints;
  }
  addrinfo* found = nullptr;
  if (const int eai = ::getaddrinfo(node, service, use_hints, &found); eai != 0) {
    return win_error(eai);
  }
  int error = 0;
  win_addrinfo* first = nullptr;
  win_addrinfo** tail = &first;
  for (const addrinfo* ai = found; ai != nullptr && error == 0; ai = ai->ai_next) {
    if (win_addrinfo* e = convert(*ai, wide, error)) {
      *tail = e;
      tail = &e->next;
    }
  }
  ::freeaddrinfo(found);
  if (error == 0 && first == nullptr) error = wsa_no_data;
  if (error != 0) {
    free_results(first);
    return error;
  }
  *out = first;
  return 0;
}

void free_results(win_addrinfo* first) noexcept {
  while (first != nullptr) {
    win_addrinfo* next = first->next;
    std::free(first);
    first = next;
  }
}

int name_info(const void* address, int length, char* host, std::size_t host_size, char* service,
              std::size_t service_size, int win_flags) noexcept {
  if (address == nullptr || length < static_cast<int>(sizeof(std::uint16_t))) return wsa_efault;
  std::uint16_t win_family = 0;
  std::memcpy(&win_family, address, sizeof win_family);
  // sockaddr_in and sockaddr_in6 have the same layout on both systems; only
  // the family value differs.
  sockaddr_storage native{};
  std::size_t size = 0;
  if (win_family == win_af_inet) {
    size = sizeof(sockaddr_in);
    native.ss_family = AF_INET;
  } else if (win_family == win_af_inet6) {
    size = sizeof(sockaddr_in6);
    native.ss_family = AF_INET6;
  } else {
    return wsa_eafnosupport;
  }
  if (static_cast<std::size_t>(length) < size) return wsa_efault;
  const std::size_t family_size = sizeof(native.ss_family);
  std::memcpy(reinterpret_cast<char*>(&native) + family_size,
              static_cast<const char*>(address) + family_size, size - family_size);
  int flags = 0;
  if (!native_name_flags(win_flags, flags)) return wsa_einval;
  if ((host != nullptr && host_size == 0) || (service != nullptr && service_size == 0))
    return wsa_einval;
  if (host == nullptr && service == nullptr) return wsa_host_not_found;
  const int eai =
      ::getnameinfo(reinterpret_cast<const sockaddr*>(&native), static_cast<socklen_t>(size), host,
                    static_cast<socklen_t>(host == nullptr ? 0 : host_size), service,
                    static_cast<socklen_t>(service == nullptr ? 0 : service_size), flags);
  if (eai == EAI_OVERFLOW) return wsa_efault;
  return eai == 0 ? 0 : win_error(eai);
}

int text_to_address(int win_family, const char* text, void* out, int& error) noexcept {
  int family = 0;
  if (!native_family(win_family, family) || family == AF_UNSPEC) {
    error = wsa_eafnosupport;
    return -1;
  }
  if (text == nullptr || out == nullptr) {
    error = wsa_efault;
    return -1;
  }
  return ::inet_pton(family, text, out);
}

bool address_to_text(int win_family, const void* address, char* out, std::size_t size,
                     int& error) noexcept {
  int family = 0;
  if (!native_family(win_family, family) || family == AF_UNSPEC) {
    error = wsa_eafnosupport;
    return false;
  }
  if (address == nullptr || out == nullptr ||
      ::inet_ntop(family, address, out, static_cast<socklen_t>(size)) == nullptr) {
    error = win_error_invalid_parameter;
    return false;
  }
  return true;
}

std::uint32_t ipv4_from_text(const char* text) noexcept {
  return text == nullptr ? INADDR_NONE : ::inet_addr(text);
}

}  // namespace proact::win32::native
