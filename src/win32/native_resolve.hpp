// glibc's resolver and address text functions, answering in Windows' values.
// (Its own file: it needs <netdb.h> and <arpa/inet.h>, whose addrinfo,
// sockaddr and AF_INET6 are not Windows'. resolve.cpp, which sees
// proact/win32.h, checks that the copies below agree with it.)
#pragma once

#include <cstddef>
#include <cstdint>

namespace proact::win32::native {

// Windows' values this side needs.
inline constexpr int win_af_unspec = 0;
inline constexpr int win_af_inet = 2;
inline constexpr int win_af_inet6 = 23;
inline constexpr int win_ai_passive = 0x1;
inline constexpr int win_ai_canonname = 0x2;
inline constexpr int win_ai_numerichost = 0x4;
inline constexpr int win_ai_numericserv = 0x8;
inline constexpr int win_ai_all = 0x100;
inline constexpr int win_ai_addrconfig = 0x400;
inline constexpr int win_ai_v4mapped = 0x800;
inline constexpr int win_ni_nofqdn = 0x01;
inline constexpr int win_ni_numerichost = 0x02;
inline constexpr int win_ni_namereqd = 0x04;
inline constexpr int win_ni_numericserv = 0x08;
inline constexpr int win_ni_dgram = 0x10;
inline constexpr int win_error_not_enough_memory = 8;
inline constexpr int win_error_invalid_parameter = 87;
inline constexpr int wsa_efault = 10014;
inline constexpr int wsa_einval = 10022;
inline constexpr int wsa_esocktnosupport = 10044;
inline constexpr int wsa_eafnosupport = 10047;
inline constexpr int wsa_type_not_found = 10109;
inline constexpr int wsa_host_not_found = 11001;
inline constexpr int wsa_try_again = 11002;
inline constexpr int wsa_no_recovery = 11003;
inline constexpr int wsa_no_data = 11004;

// Windows' ADDRINFOA, field for field.
struct win_addrinfo {
  int flags;
  int family;
  int socktype;
  int protocol;
  std::size_t addrlen;
  char* canonname;
  void* addr;
  win_addrinfo* next;
};

// getaddrinfo with Windows' hints; 0, or the Windows error. Each result is
// one allocation (the entry, its address, its canonical name: a wchar_t
// string when `wide`, as ADDRINFOW has it), freed by free_results.
int resolve(const char* node, const char* service, const win_addrinfo* hints, win_addrinfo** out,
            bool wide = false) noexcept;
void free_results(win_addrinfo* first) noexcept;
// getnameinfo of a Windows sockaddr (its family in Windows' value) with
// Windows' flags; 0, or the Windows error.
int name_info(const void* address, int length, char* host, std::size_t host_size, char* service,
              std::size_t service_size, int win_flags) noexcept;
// inet_pton / inet_ntop with a Windows family; `error` is set on failure.
int text_to_address(int win_family, const char* text, void* out, int& error) noexcept;
bool address_to_text(int win_family, const void* address, char* out, std::size_t size,
                     int& error) noexcept;
// inet_addr: the address in network order, or 0xffffffff.
std::uint32_t ipv4_from_text(const char* text) noexcept;

}  // namespace proact::win32::native
