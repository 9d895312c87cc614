// Name resolution in Windows' form: getaddrinfo/freeaddrinfo (and their
// WCHAR forms GetAddrInfoW/FreeAddrInfoW), getnameinfo/GetNameInfoW, inet_pton,
// inet_ntop, inet_addr, inet_ntoa, over glibc's (native_resolve.cpp).
#include <cstddef>
#include <cwchar>
#include <string>

#include "native_resolve.hpp"
#include "proact/port.hpp"
#include "proact/win32.h"
#include "wide.hpp"

namespace native = proact::win32::native;

// The two sides of the conversion agree on Windows' layout and values.
static_assert(sizeof(ADDRINFOA) == sizeof(native::win_addrinfo));
static_assert(offsetof(ADDRINFOA, ai_addrlen) == offsetof(native::win_addrinfo, addrlen));
static_assert(offsetof(ADDRINFOA, ai_canonname) == offsetof(native::win_addrinfo, canonname));
static_assert(offsetof(ADDRINFOA, ai_addr) == offsetof(native::win_addrinfo, addr));
static_assert(offsetof(ADDRINFOA, ai_next) == offsetof(native::win_addrinfo, next));
static_assert(sizeof(ADDRINFOW) == sizeof(ADDRINFOA) &&
              offsetof(ADDRINFOW, ai_canonname) == offsetof(ADDRINFOA, ai_canonname) &&
              offsetof(ADDRINFOW, ai_addr) == offsetof(ADDRINFOA, ai_addr));
static_assert(native::win_af_inet == AF_INET && native::win_af_inet6 == AF_INET6 &&
              native::win_af_unspec == AF_UNSPEC);
static_assert(native::win_ai_passive == AI_PASSIVE && native::win_ai_canonname == AI_CANONNAME &&
              native::win_ai_numerichost == AI_NUMERICHOST &&
              native::win_ai_numericserv == AI_NUMERICSERV && native::win_ai_all == AI_ALL &&
              native::win_ai_addrconfig == AI_ADDRCONFIG && native::win_ai_v4mapped == AI_V4MAPPED);
static_assert(native::win_ni_nofqdn == NI_NOFQDN && native::win_ni_numerichost == NI_NUMERICHOST &&
              native::win_ni_namereqd == NI_NAMEREQD &&
              native::win_ni_numericserv == NI_NUMERICSERV && native::win_ni_dgram == NI_DGRAM);
static_assert(native::wsa_host_not_found == WSAHOST_NOT_FOUND &&
              native::wsa_try_again == WSATRY_AGAIN && native::wsa_no_recovery == WSANO_RECOVERY &&
              native::wsa_no_data == WSANO_DATA && native::wsa_eafnosupport == WSAEAFNOSUPPORT &&
              native::wsa_esocktnosupport == WSAESOCKTNOSUPPORT &&
              native::wsa_type_not_found == WSATYPE_NOT_FOUND && native::wsa_einval == WSAEINVAL &&
              native::wsa_efault == WSAEFAULT &&
              native::win_error_not_enough_memory == ERROR_NOT_ENOUGH_MEMORY &&
              native::win_error_invalid_parameter == ERROR_INVALID_PARAMETER);

INT WSAAPI getaddrinfo(PCSTR pNodeName, PCSTR pServiceName, const ADDRINFOA* pHints,
                       PADDRINFOA* ppResult) {
  native::win_addrinfo* first = nullptr;
  const proact::blocking_scope blocked;  // a lookup may wait for DNS
  const int error = native::resolve(pNodeName, pServiceName,
                                    reinterpret_cast<const native::win_addrinfo*>(pHints), &first);
  if (ppResult != nullptr) *ppResult = reinterpret_cast<PADDRINFOA>(first);
  // Windows returns the error and sets it as the last error too.
  WSASetLastError(error);
  return error;
}

void WSAAPI freeaddrinfo(PADDRINFOA pAddrInfo) {
  native::free_results(reinterpret_cast<native::win_addrinfo*>(pAddrInfo));
}

INT WSAAPI GetAddrInfoW(PCWSTR pNodeName, PCWSTR pServiceName, const ADDRINFOW* pHints,
                        PADDRINFOW* ppResult) {
  std::string node;
  std::string service;
  if ((pNodeName != nullptr && !proact::win32::utf8_from_wide(pNodeName, node)) ||
      (pServiceName != nullptr && !proact::win32::utf8_from_wide(pServiceName, service))) {
    WSASetLastError(WSAHOST_NOT_FOUND);
    return WSAHOST_NOT_FOUND;
  }
  native::win_addrinfo* first = nullptr;
  const proact::blocking_scope blocked;  // a lookup may wait for DNS
  const int error =
      native::resolve(pNodeName == nullptr ? nullptr : node.c_str(),
                      pServiceName == nullptr ? nullptr : service.c_str(),
                      reinterpret_cast<const native::win_addrinfo*>(pHints), &first, true);
  if (ppResult != nullptr) *ppResult = reinterpret_cast<PADDRINFOW>(first);
  WSASetLastError(error);
  return error;
}

void WSAAPI FreeAddrInfoW(PADDRINFOW pAddrInfo) {
  native::free_results(reinterpret_cast<native::win_addrinfo*>(pAddrInfo));
}

INT WSAAPI getnameinfo(const struct sockaddr* pSockaddr, socklen_t SockaddrLength,
                       PCHAR pNodeBuffer, DWORD NodeBufferSize, PCHAR pServiceBuffer,
                       DWORD ServiceBufferSize, INT Flags) {
  const int error = native::name_info(pSockaddr, SockaddrLength, pNodeBuffer, NodeBufferSize,
                                      pServiceBuffer, ServiceBufferSize, Flags);
  WSASetLastError(error);
  return error;
}

namespace {

// Copies `text` into a WCHAR buffer of `size` characters; false if it does
// not fit with its terminator (or is not UTF-8).
bool copy_wide(const char* text, PWCHAR out, DWORD size) {
  std::wstring wide;
  if (!proact::win32::wide_from_utf8(text, wide) || wide.size() >= size) return false;
  std::wmemcpy(out, wide.c_str(), wide.size() + 1);
  return true;
}

}  // namespace

INT WSAAPI GetNameInfoW(const struct sockaddr* pSockaddr, socklen_t SockaddrLength,
                        PWCHAR pNodeBuffer, DWORD NodeBufferSize, PWCHAR pServiceBuffer,
                        DWORD ServiceBufferSize, INT Flags) {
  // Into buffers of the largest sizes, then converted: the size checks are
  // on WCHARs.
  char node[NI_MAXHOST];
  char service[NI_MAXSERV];
  int error = native::name_info(pSockaddr, SockaddrLength, pNodeBuffer == nullptr ? nullptr : node,
                                NodeBufferSize == 0 ? 0 : sizeof node,
                                pServiceBuffer == nullptr ? nullptr : service,
                                ServiceBufferSize == 0 ? 0 : sizeof service, Flags);
  if (error == 0 &&
      ((pNodeBuffer != nullptr && !copy_wide(node, pNodeBuffer, NodeBufferSize)) ||
       (pServiceBuffer != nullptr && !copy_wide(service, pServiceBuffer, ServiceBufferSize)))) {
    error = WSAEFAULT;
  }
  WSASetLastError(error);
  return error;
}

INT WSAAPI inet_pton(INT Family, PCSTR pszAddrString, PVOID pAddrBuf) {
  int error = 0;
  const int n = native::text_to_address(Family, pszAddrString, pAddrBuf, error);
  if (n < 0) WSASetLastError(error);
  return n;
}

PCSTR WSAAPI inet_ntop(INT Family, const VOID* pAddr, PSTR pStringBuf, std::size_t StringBufSize) {
  int error = 0;
  if (!native::address_to_text(Family, pAddr, pStringBuf, StringBufSize, error)) {
    WSASetLastError(error);
    return nullptr;
  }
  return pStringBuf;
}

u_long WSAAPI inet_addr(const char* cp) {
  return native::ipv4_from_text(cp);
}

char* WSAAPI inet_ntoa(struct in_addr in) {
  thread_local char text[INET_ADDRSTRLEN];
  int error = 0;
  return native::address_to_text(AF_INET, &in, text, sizeof text, error) ? text : nullptr;
}
