// The Microsoft extensions: WSAIoctl (SIO_GET_EXTENSION_FUNCTION_POINTER,
// the UDP report switches, SIO_KEEPALIVE_VALS), AcceptEx (with initial data),
// ConnectEx (with a send buffer), GetAcceptExSockaddrs; TransmitFile and
// DisconnectEx are in transmit.cpp.
//
// AcceptEx's output buffer: the initial data, then the local address in
// dwLocalAddressLength bytes, then the remote one in dwRemoteAddressLength
// bytes, each a Windows sockaddr (Windows' own layout inside those areas is
// undocumented; GetAcceptExSockaddrs is the only reader).
#include <cstdint>
#include <cstring>
#include <mutex>

#include "completion.hpp"
#include "native_socket.hpp"
#include "objects.hpp"
#include "op_record.hpp"
#include "proact/win32/compat/mstcpip.h"
#include "sockaddr.hpp"
#include "status.hpp"
#include "transmit.hpp"

using namespace proact::win32;

namespace {

// AcceptEx's and ConnectEx's answer: pending, or in skip mode perhaps done in
// the call (TRUE and the byte count, or FALSE and its error; no packet).
BOOL answer(const start_outcome& o, LPDWORD bytes) {
  switch (o.what) {
    case start_outcome::pending:
      return refuse(WSA_IO_PENDING);
    case start_outcome::refused:
      return refuse(wsa_from(o.refusal));
    case start_outcome::done:
      break;
  }
  if (bytes != nullptr) *bytes = o.result.bytes;
  if (o.result.status != STATUS_SUCCESS) return refuse(wsa_from_ntstatus(o.result.status));
  return TRUE;
}

BOOL WINAPI connect_ex(SOCKET s, const struct sockaddr* name, int namelen, PVOID lpSendBuffer,
                       DWORD dwSendDataLength, LPDWORD lpdwBytesSent, LPOVERLAPPED lpOverlapped) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return refuse(WSAENOTSOCK);
  if (lpOverlapped == nullptr) return refuse(WSAEINVAL);
  proact::endpoint remote;
  if (!endpoint_from(name, namelen, remote)) return refuse(WSAEFAULT);
  {
    std::lock_guard lock(so->mutex);
    if (const int error = reopen_after_failed_connect(*so)) return refuse(error);
    const socket_role role = so->role.load(std::memory_order_acquire);
    // ConnectEx wants a bound socket, and (here) one associated with a port.
    if (role == socket_role::listener || so->bound.empty() || so->port == nullptr) {
      return refuse(WSAEINVAL);
    }
    if (auto ec = open_as_stream(*so)) return refuse(wsa_from(ec));
    // Under the lock: another ConnectEx meanwhile must see it in progress.
    so->connecting.store(true, std::memory_order_release);
  }
  op_record* r = take_record(op_kind::connect, lpOverlapped, so->key, so, &so->stream);
  if (r == nullptr) {
    so->connecting.store(false, std::memory_order_release);
    return refuse(WSAENOBUFS);
  }
  r->target = so;
  r->buffer_count = 0;
  if (lpSendBuffer != nullptr && dwSendDataLength > 0) {
    r->buffers[0] = proact::buffer{lpSendBuffer, dwSendDataLength};
    r->buffer_count = 1;
  }
  const bool skip = so->skip_on_success.load(std::memory_order_acquire);
  mark_pending(lpOverlapped, r, skip);
  const start_outcome o =
      after_start(r, lpOverlapped, so->stream.connect(*r, remote), skip, so->port);
  if (o.what == start_outcome::refused) so->connecting.store(false, std::memory_order_release);
  return answer(o, lpdwBytesSent);
}

BOOL WINAPI accept_ex(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
                      DWORD dwReceiveDataLength, DWORD dwLocalAddressLength,
                      DWORD dwRemoteAddressLength, LPDWORD lpdwBytesReceived,
                      LPOVERLAPPED lpOverlapped) {
  socket_object* listener = find_socket(sListenSocket);
  socket_object* target = find_socket(sAcceptSocket);
  if (listener == nullptr || target == nullptr) return refuse(WSAENOTSOCK);
  if (lpOverlapped == nullptr || lpOutputBuffer == nullptr) return refuse(WSAEFAULT);
  if (listener->role.load(std::memory_order_acquire) != socket_role::listener ||
      listener->port == nullptr) {
    return refuse(WSAEINVAL);
  }
  // "at least 16 bytes more than the maximum address length for the
  // transport protocol in use" (AcceptEx).
  const DWORD least =
      (listener->family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)) + 16;
  if (dwLocalAddressLength < least || dwRemoteAddressLength < least) {
    return refuse(WSAEINVAL);
  }
  if (target->role.load(std::memory_order_acquire) != socket_role::unopened ||
      target->accept_target.exchange(true, std::memory_order_acq_rel)) {
    return refuse(WSAEINVAL);
  }
  op_record* r =
      take_record(op_kind::accept, lpOverlapped, listener->key, listener, &listener->listener);
  if (r == nullptr) {
    target->accept_target.store(false, std::memory_order_release);
    return refuse(WSAENOBUFS);
  }
  r->target = target;
  r->output = static_cast<char*>(lpOutputBuffer);
  r->receive_length = dwReceiveDataLength;
  r->local_length = dwLocalAddressLength;
  r->remote_length = dwRemoteAddressLength;
  r->peer = proact::endpoint{};
  const bool skip = listener->skip_on_success.load(std::memory_order_acquire);
  mark_pending(lpOverlapped, r, skip);
  const start_outcome o =
      after_start(r, lpOverlapped, listener->listener.accept(*r, target->stream, &r->peer), skip,
                  listener->port);
  if (o.what == start_outcome::refused) {
    target->accept_target.store(false, std::memory_order_release);
  }
  return answer(o, lpdwBytesReceived);
}

void WINAPI get_accept_ex_sockaddrs(PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
                                    DWORD dwLocalAddressLength, DWORD /*dwRemoteAddressLength*/,
                                    struct sockaddr** LocalSockaddr, LPINT LocalSockaddrLength,
                                    struct sockaddr** RemoteSockaddr, LPINT RemoteSockaddrLength) {
  auto* local =
      reinterpret_cast<sockaddr*>(static_cast<char*>(lpOutputBuffer) + dwReceiveDataLength);
  auto* remote = reinterpret_cast<sockaddr*>(reinterpret_cast<char*>(local) + dwLocalAddressLength);
  const auto length = [](const sockaddr* sa) {
    return sa->sa_family == AF_INET6 ? static_cast<int>(sizeof(sockaddr_in6))
                                     : static_cast<int>(sizeof(sockaddr_in));
  };
  if (LocalSockaddr != nullptr) *LocalSockaddr = local;
  if (LocalSockaddrLength != nullptr) *LocalSockaddrLength = length(local);
  if (RemoteSockaddr != nullptr) *RemoteSockaddr = remote;
  if (RemoteSockaddrLength != nullptr) *RemoteSockaddrLength = length(remote);
}

// SIO_UDP_CONNRESET and SIO_UDP_NETRESET: a UDP server turns off with them
// the WSAECONNRESET (ICMP port unreachable) and WSAENETRESET (TTL expired)
// that Windows reports to its next receive. Linux reports neither to a
// socket that is not connected, so either answer leaves nothing to change;
// the call succeeds as Windows'.
int udp_reports(socket_object& so, LPVOID in, DWORD in_size, LPDWORD returned, LPWSAOVERLAPPED ov,
                LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  if (ov != nullptr || routine != nullptr) return fail_wsa(WSAEOPNOTSUPP);
  if (so.role.load(std::memory_order_acquire) != socket_role::datagram) {
    return fail_wsa(WSAEOPNOTSUPP);
  }
  if (in == nullptr || in_size < sizeof(BOOL)) return fail_wsa(WSAEFAULT);
  if (returned != nullptr) *returned = 0;
  return 0;
}

// Milliseconds to Linux's whole seconds: rounded up (a time is never made
// shorter), at least 1, at most what Linux takes (32767 for TCP_KEEPIDLE
// and TCP_KEEPINTVL; Windows takes up to 0xFFFFFFFF ms).
int keep_alive_seconds(ULONG milliseconds) noexcept {
  constexpr std::uint64_t most = 32767;
  const std::uint64_t seconds = (std::uint64_t{milliseconds} + 999) / 1000;
  return static_cast<int>(seconds < 1 ? 1 : (seconds > most ? most : seconds));
}

// SIO_KEEPALIVE_VALS: SO_KEEPALIVE on or off and, when on, the idle time
// and the probe interval, with Windows' 10 probes. A socket whose role is
// not known yet keeps them for its handle (apply_pending_options), so they
// hold for an AcceptEx accept socket or a socket before its ConnectEx.
// "WSAENOPROTOOPT ... is returned for a datagram socket" (SIO_KEEPALIVE_VALS).
int keep_alive_values(socket_object& so, LPVOID in, DWORD in_size, LPDWORD returned,
                      LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  if (ov != nullptr || routine != nullptr) return fail_wsa(WSAEOPNOTSUPP);
  if (so.type != SOCK_STREAM) return fail_wsa(WSAENOPROTOOPT);
  if (in == nullptr || in_size < sizeof(tcp_keepalive)) return fail_wsa(WSAEFAULT);
  tcp_keepalive values{};
  std::memcpy(&values, in, sizeof values);
  std::lock_guard lock(so.mutex);
  so.keep_alive = values.onoff != 0;
  if (so.keep_alive) {
    so.keep_alive_idle = keep_alive_seconds(values.keepalivetime);
    so.keep_alive_interval = keep_alive_seconds(values.keepaliveinterval);
  }
  if (proact::handle* h = so.active()) {
    const int fd = h->native_handle();
    if (!set_keep_alive(fd, so.keep_alive)) return fail_wsa(WSAEINVAL);
    if (so.keep_alive &&
        !set_keep_alive_times(fd, so.keep_alive_idle, so.keep_alive_interval, keep_alive_probes)) {
      return fail_wsa(WSAEINVAL);
    }
  }
  if (returned != nullptr) *returned = 0;
  return 0;
}

}  // namespace

BOOL WINAPI AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
                     DWORD dwReceiveDataLength, DWORD dwLocalAddressLength,
                     DWORD dwRemoteAddressLength, LPDWORD lpdwBytesReceived,
                     LPOVERLAPPED lpOverlapped) {
  return accept_ex(sListenSocket, sAcceptSocket, lpOutputBuffer, dwReceiveDataLength,
                   dwLocalAddressLength, dwRemoteAddressLength, lpdwBytesReceived, lpOverlapped);
}

BOOL WINAPI TransmitFile(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite,
                         DWORD nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped,
                         LPTRANSMIT_FILE_BUFFERS lpTransmitBuffers, DWORD dwReserved) {
  return transmit_file(hSocket, hFile, nNumberOfBytesToWrite, nNumberOfBytesPerSend, lpOverlapped,
                       lpTransmitBuffers, dwReserved);
}

void WINAPI GetAcceptExSockaddrs(PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
                                 DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
                                 struct sockaddr** LocalSockaddr, LPINT LocalSockaddrLength,
                                 struct sockaddr** RemoteSockaddr, LPINT RemoteSockaddrLength) {
  get_accept_ex_sockaddrs(lpOutputBuffer, dwReceiveDataLength, dwLocalAddressLength,
                          dwRemoteAddressLength, LocalSockaddr, LocalSockaddrLength, RemoteSockaddr,
                          RemoteSockaddrLength);
}

int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
                    LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
                    LPWSAOVERLAPPED lpOverlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  if (dwIoControlCode == SIO_UDP_CONNRESET || dwIoControlCode == SIO_UDP_NETRESET) {
    return udp_reports(*so, lpvInBuffer, cbInBuffer, lpcbBytesReturned, lpOverlapped,
                       lpCompletionRoutine);
  }
  if (dwIoControlCode == SIO_KEEPALIVE_VALS) {
    return keep_alive_values(*so, lpvInBuffer, cbInBuffer, lpcbBytesReturned, lpOverlapped,
                             lpCompletionRoutine);
  }
  if (dwIoControlCode != SIO_GET_EXTENSION_FUNCTION_POINTER) return fail_wsa(WSAEOPNOTSUPP);
  if (lpOverlapped != nullptr || lpCompletionRoutine != nullptr) return fail_wsa(WSAEOPNOTSUPP);
  if (lpvInBuffer == nullptr || cbInBuffer < sizeof(GUID) || lpvOutBuffer == nullptr ||
      cbOutBuffer < sizeof(void*) || lpcbBytesReturned == nullptr) {
    return fail_wsa(WSAEFAULT);
  }
  GUID id{};
  std::memcpy(&id, lpvInBuffer, sizeof id);
  const GUID accept_id = WSAID_ACCEPTEX;
  const GUID connect_id = WSAID_CONNECTEX;
  const GUID sockaddrs_id = WSAID_GETACCEPTEXSOCKADDRS;
  const GUID transmit_id = WSAID_TRANSMITFILE;
  const GUID disconnect_id = WSAID_DISCONNECTEX;
  if (id == accept_id) {
    const LPFN_ACCEPTEX f = accept_ex;
    std::memcpy(lpvOutBuffer, &f, sizeof f);
  } else if (id == connect_id) {
    const LPFN_CONNECTEX f = connect_ex;
    std::memcpy(lpvOutBuffer, &f, sizeof f);
  } else if (id == transmit_id) {
    const LPFN_TRANSMITFILE f = transmit_file;
    std::memcpy(lpvOutBuffer, &f, sizeof f);
  } else if (id == disconnect_id) {
    const LPFN_DISCONNECTEX f = disconnect_ex;
    std::memcpy(lpvOutBuffer, &f, sizeof f);
  } else if (id == sockaddrs_id) {
    const LPFN_GETACCEPTEXSOCKADDRS f = get_accept_ex_sockaddrs;
    std::memcpy(lpvOutBuffer, &f, sizeof f);
  } else {
    return fail_wsa(WSAEINVAL);
  }
  *lpcbBytesReturned = sizeof(void*);
  return 0;
}
