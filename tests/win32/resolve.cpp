// Name resolution: getaddrinfo of numeric IPv4 and IPv6 addresses (Windows'
// AF_INET6 = 23 and sockaddr_in6 in the results), a passive any-address,
// "localhost" for IPv4, names refused under AI_NUMERICHOST (11001), an
// unknown family; inet_pton, inet_ntop (a buffer too small), inet_addr and
// inet_ntoa; GetAddrInfoW; getnameinfo and GetNameInfoW of numeric
// addresses, and getnameinfo's refusals (a null or short address, another
// family). Nothing here needs a DNS server.
#include <ws2tcpip.h>

#include <string>

#include "scenario.h"

using namespace scenario;

namespace {

void print_results(const ADDRINFOA* ai) {
  for (; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = "?";
    u_short port = 0;
    if (ai->ai_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (ai->ai_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    std::printf("  family=%d socktype=%d protocol=%d addrlen=%d sa_family=%d %s port %u\n",
                ai->ai_family, ai->ai_socktype, ai->ai_protocol, static_cast<int>(ai->ai_addrlen),
                ai->ai_addr->sa_family, text, port);
  }
}

void lookup(const char* what, const char* node, const char* service, int family, int flags) {
  ADDRINFOA hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = flags;
  ADDRINFOA* found = nullptr;
  WSASetLastError(0);
  const int error = getaddrinfo(node, service, &hints, &found);
  std::printf("getaddrinfo (%s): %d last error=%d\n", what, error, WSAGetLastError());
  if (error == 0) {
    print_results(found);
    freeaddrinfo(found);
  }
}

// getnameinfo into a host buffer (if asked for) and a service buffer (if
// asked for). Its return value only: Wine 8.0 does not set the last error.
int name_of(const char* what, const sockaddr* sa, int length, bool host, bool service, int flags) {
  char node[NI_MAXHOST] = "-";
  char serv[NI_MAXSERV] = "-";
  const int error = getnameinfo(sa, length, host ? node : nullptr, host ? sizeof node : 0,
                                service ? serv : nullptr, service ? sizeof serv : 0, flags);
  std::printf("getnameinfo (%s): %d", what, error);
  if (error == 0) std::printf(" host=%s service=%s", node, serv);
  std::printf("\n");
  return error;
}

// A WCHAR string of ASCII characters, printed as such.
std::string narrow(const WCHAR* text) {
  std::string out;
  for (; *text != 0; ++text) out += *text < 128 ? static_cast<char>(*text) : '?';
  return out;
}

void name_lookups() {
  sockaddr_in v4;
  std::memset(&v4, 0, sizeof v4);
  v4.sin_family = AF_INET;
  v4.sin_port = htons(80);
  inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  const auto* sa4 = reinterpret_cast<const sockaddr*>(&v4);
  sockaddr_in6 v6;
  std::memset(&v6, 0, sizeof v6);
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(443);
  inet_pton(AF_INET6, "::1", &v6.sin6_addr);
  const auto* sa6 = reinterpret_cast<const sockaddr*>(&v6);
  const int numeric = NI_NUMERICHOST | NI_NUMERICSERV;
  const int size4 = static_cast<int>(sizeof v4);
  const int size6 = static_cast<int>(sizeof v6);

  name_of("127.0.0.1:80, numeric", sa4, size4, true, true, numeric);
  name_of("[::1]:443, numeric", sa6, size6, true, true, numeric);
  name_of("host only", sa4, size4, true, false, NI_NUMERICHOST);
  name_of("service only", sa6, size6, false, true, NI_NUMERICSERV);
  sockaddr_in other = v4;
  other.sin_family = 9999;
  name_of("an unknown family", reinterpret_cast<const sockaddr*>(&other), size4, true, true,
          numeric);
  // Documented: WSAEFAULT for a null address or one shorter than its
  // family's sockaddr.
  if (under_wine()) {
    wine_difference("getnameinfo of a null or short address",
                    "Wine answers a null address with STATUS_ACCESS_VIOLATION and a short one "
                    "with WSAEAFNOSUPPORT, Windows both with WSAEFAULT (10014)");
    std::printf("getnameinfo (a null address): %d\n", static_cast<int>(WSAEFAULT));
    std::printf("getnameinfo (a short address): %d\n", static_cast<int>(WSAEFAULT));
  } else {
    name_of("a null address", nullptr, size4, true, true, numeric);
    name_of("a short address", sa4, size4 - 1, true, true, numeric);
  }

  WCHAR node[NI_MAXHOST] = {L'-', 0};
  WCHAR serv[NI_MAXSERV] = {L'-', 0};
  const int error = GetNameInfoW(sa6, size6, node, NI_MAXHOST, serv, NI_MAXSERV, numeric);
  std::printf("GetNameInfoW ([::1]:443, numeric): %d host=%s service=%s\n", error,
              narrow(node).c_str(), narrow(serv).c_str());
}

}  // namespace

int main() {
  WSADATA data;
  if (WSAStartup(MAKEWORD(2, 2), &data) != 0) fail("WSAStartup");

  lookup("127.0.0.1, numeric", "127.0.0.1", "80", AF_UNSPEC, AI_NUMERICHOST);
  lookup("::1, numeric", "::1", "443", AF_UNSPEC, AI_NUMERICHOST);
  lookup("no node, passive, IPv6", nullptr, "8080", AF_INET6, AI_PASSIVE);
  lookup("localhost, IPv4", "localhost", "7", AF_INET, 0);
  lookup("localhost, numeric only", "localhost", "7", AF_UNSPEC, AI_NUMERICHOST);
  lookup("no.such.host.invalid, numeric only", "no.such.host.invalid", "7", AF_UNSPEC,
         AI_NUMERICHOST);
  lookup("an unknown family", "127.0.0.1", "7", 9999, AI_NUMERICHOST);

  ADDRINFOW wide_hints;
  std::memset(&wide_hints, 0, sizeof wide_hints);
  wide_hints.ai_socktype = SOCK_STREAM;
  wide_hints.ai_protocol = IPPROTO_TCP;
  wide_hints.ai_flags = AI_NUMERICHOST;
  ADDRINFOW* wide_found = nullptr;
  const int wide_error = GetAddrInfoW(L"::1", L"443", &wide_hints, &wide_found);
  std::printf("GetAddrInfoW (::1, numeric): %d\n", wide_error);
  for (const ADDRINFOW* ai = wide_found; ai != nullptr; ai = ai->ai_next) {
    std::printf("  family=%d addrlen=%d sa_family=%d canonname=%s\n", ai->ai_family,
                static_cast<int>(ai->ai_addrlen), ai->ai_addr->sa_family,
                ai->ai_canonname == nullptr ? "NULL" : "set");
  }
  if (wide_error == 0) FreeAddrInfoW(wide_found);
  std::printf("GetAddrInfoW (localhost, numeric only): %d\n",
              GetAddrInfoW(L"localhost", L"7", &wide_hints, &wide_found));

  name_lookups();

  in_addr v4;
  IN6_ADDR v6;
  std::printf("inet_pton(AF_INET, \"192.0.2.1\"): %d\n", inet_pton(AF_INET, "192.0.2.1", &v4));
  std::printf("inet_pton(AF_INET, \"192.0.2\"): %d\n", inet_pton(AF_INET, "192.0.2", &v4));
  std::printf("inet_pton(AF_INET6, \"2001:db8::1\"): %d\n",
              inet_pton(AF_INET6, "2001:db8::1", &v6));
  WSASetLastError(0);
  const int bad = inet_pton(9999, "1.2.3.4", &v4);
  std::printf("inet_pton(9999, ...): %d error=%d\n", bad, WSAGetLastError());

  char text[INET6_ADDRSTRLEN];
  inet_pton(AF_INET, "192.0.2.1", &v4);
  std::printf("inet_ntop(AF_INET): %s\n", inet_ntop(AF_INET, &v4, text, sizeof text));
  std::printf("inet_ntop(AF_INET6): %s\n", inet_ntop(AF_INET6, &v6, text, sizeof text));
  char small[4];
  WSASetLastError(0);
  const char* none = inet_ntop(AF_INET, &v4, small, sizeof small);
  int error = WSAGetLastError();
  if (under_wine() && none == nullptr && error == static_cast<int>(0xC000000Du)) {
    error = ERROR_INVALID_PARAMETER;
    wine_difference("inet_ntop into a buffer too small",
                    "Wine sets STATUS_INVALID_PARAMETER as the last error, Windows "
                    "ERROR_INVALID_PARAMETER (87)");
  }
  std::printf("inet_ntop (a buffer of 4): %s error=%d\n", none == nullptr ? "NULL" : none, error);

  std::printf("inet_addr(\"10.1.2.3\"): 0x%08lx\n",
              static_cast<unsigned long>(ntohl(inet_addr("10.1.2.3"))));
  std::printf("inet_addr(\"not an address\"): 0x%08lx\n",
              static_cast<unsigned long>(inet_addr("not an address")));
  in_addr a;
  a.s_addr = htonl(0x0a010203);
  std::printf("inet_ntoa: %s\n", inet_ntoa(a));
  WSACleanup();
  return 0;
}
