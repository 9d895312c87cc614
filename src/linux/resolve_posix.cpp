// Name lookup on POSIX: getaddrinfo, whose failures are EAI_* codes in
// resolver_category() (EAI_SYSTEM: errno in native_category()).
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/addrinfo_endpoints.hpp"
#include "common/sys_resolve.hpp"
#include "proact/error.hpp"

namespace proact {
namespace {

class addrinfo_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int value) const override { return ::gai_strerror(value); }
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (value) {
      case EAI_NONAME:
#ifdef EAI_NODATA
      case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
      case EAI_ADDRFAMILY:
#endif
      case EAI_FAIL:
        return errc::host_not_found;
      case EAI_AGAIN:
        return errc::try_again;
      case EAI_SERVICE:
      case EAI_SOCKTYPE:
        return errc::service_not_found;
      case EAI_FAMILY:
      case EAI_BADFLAGS:
        return errc::invalid_argument;
      case EAI_MEMORY:
        return errc::no_resources;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& resolver_category() noexcept {
  static const addrinfo_category instance;
  return instance;
}

namespace detail::sys {

std::error_code lookup(const std::string& host, const std::string& service,
                       const resolve_hints& hints, std::vector<endpoint>& out) {
  addrinfo want{};
  want.ai_family = hints.family == address_family::ipv4   ? AF_INET
                   : hints.family == address_family::ipv6 ? AF_INET6
                                                          : AF_UNSPEC;
  want.ai_socktype = SOCK_STREAM;  // one entry per address, not per socket type
  want.ai_flags = hints.passive ? AI_PASSIVE : 0;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                               service.empty() ? nullptr : service.c_str(), &want, &list);
  if (rc == EAI_SYSTEM) return {errno, native_category()};
  if (rc != 0) return {rc, resolver_category()};
  append_endpoints(list, AF_INET, AF_INET6, out);
  ::freeaddrinfo(list);
  return {};
}

}  // namespace detail::sys
}  // namespace proact
