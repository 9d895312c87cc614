// Name lookup on Windows: GetAddrInfoW, called on the resolver's pool threads
// (docs/iocp.md says why not GetAddrInfoExW's overlapped form). Its failures
// are Winsock codes, native like every other Windows error.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <string>

#include "common/addrinfo_endpoints.hpp"
#include "common/sys_resolve.hpp"
#include "proact/error.hpp"
#include "winsock.hpp"

namespace proact {

const std::error_category& resolver_category() noexcept {
  return native_category();
}

namespace detail::sys {
namespace {

// UTF-8 to UTF-16; false if `text` is not valid UTF-8.
bool widen(const std::string& text, std::wstring& out) {
  out.clear();
  if (text.empty()) return true;
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text.data(),
                                    static_cast<int>(text.size()), nullptr, 0);
  if (n <= 0) return false;
  out.resize(static_cast<std::size_t>(n));
  return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text.data(),
                             static_cast<int>(text.size()), out.data(), n) == n;
}

}  // namespace

std::error_code lookup(const std::string& host, const std::string& service,
                       const resolve_hints& hints, std::vector<endpoint>& out) {
  if (std::error_code ec = winsock::startup()) return ec;
  std::wstring whost;
  std::wstring wservice;
  if (!widen(host, whost) || !widen(service, wservice))
    return make_error_code(error::invalid_argument);
  ADDRINFOW want{};
  want.ai_family = hints.family == address_family::ipv4   ? AF_INET
                   : hints.family == address_family::ipv6 ? AF_INET6
                                                          : AF_UNSPEC;
  want.ai_socktype = SOCK_STREAM;
  want.ai_protocol = IPPROTO_TCP;
  want.ai_flags = hints.passive ? AI_PASSIVE : 0;
  ADDRINFOW* list = nullptr;
  const int rc = GetAddrInfoW(host.empty() ? nullptr : whost.c_str(),
                              service.empty() ? nullptr : wservice.c_str(), &want, &list);
  if (rc != 0) return native_error(rc);
  append_endpoints(list, AF_INET, AF_INET6, out);
  FreeAddrInfoW(list);
  return {};
}

}  // namespace detail::sys
}  // namespace proact
