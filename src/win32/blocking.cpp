// The blocking socket calls: connect, WSAConnect, send, recv (TCP), sendto,
// recvfrom (UDP; on TCP as send and recv).
//
// They run on the native descriptor (native_blocking.cpp), not through a
// port, so the socket keeps whatever association it has (none, usually: the
// application associates it with its port afterwards). A call registers
// itself on the socket while it waits; closesocket from another thread wakes
// it (WSAEINTR, as Windows ends a blocking call) and closes the descriptor
// only once it has left.
#include <mutex>

#include "native_blocking.hpp"
#include "objects.hpp"
#include "proact/error.hpp"
#include "sockaddr.hpp"
#include "status.hpp"

using namespace proact::win32;

namespace {

// A blocking call's hold on its socket, taken under the socket's lock: the
// native descriptor stays open (and the slot unused by another socket) until
// it is released.
class hold {
 public:
  explicit hold(socket_object* so) noexcept : so_(so) {}
  hold(const hold&) = delete;
  hold& operator=(const hold&) = delete;
  ~hold() {
    if (so_ != nullptr) so_->blocking_calls.fetch_sub(1, std::memory_order_acq_rel);
  }
  explicit operator bool() const noexcept { return so_ != nullptr; }
  // closesocket came while the call waited.
  bool closed_meanwhile() const noexcept { return so_->closing.load(std::memory_order_acquire); }
  bool send_shut() const noexcept { return so_->send_shut.load(std::memory_order_acquire); }
  bool recv_shut() const noexcept { return so_->recv_shut.load(std::memory_order_acquire); }
  int family() const noexcept { return so_->family; }
  waited_fd waited(int fd) const noexcept { return {fd, so_->closing}; }

 private:
  socket_object* so_;
};

// The Winsock value of a native call's failure.
int wsa_of(const std::error_code& ec) noexcept {
  if (ec == proact::errc::timed_out) return WSAETIMEDOUT;
  return wsa_from(ec);
}

// The open TCP stream or UDP socket behind `s`, its role and descriptor,
// held for the call; nullptr with the error set otherwise (a TCP socket not
// connected: WSAENOTCONN).
socket_object* held_open(SOCKET s, socket_role& role, int& fd) {
  socket_object* so = find_socket(s);
  if (so == nullptr) {
    WSASetLastError(WSAENOTSOCK);
    return nullptr;
  }
  std::lock_guard lock(so->mutex);
  if (so->closing.load(std::memory_order_acquire)) {
    WSASetLastError(WSAENOTSOCK);
    return nullptr;
  }
  role = so->role.load(std::memory_order_acquire);
  if (role != socket_role::stream && role != socket_role::datagram) {
    WSASetLastError(WSAENOTCONN);
    return nullptr;
  }
  fd = so->active()->native_handle();
  so->blocking_calls.fetch_add(1, std::memory_order_acq_rel);
  return so;
}

// A datagram into `buf`, its source into `from` (may be null); the bytes or
// SOCKET_ERROR. Windows refuses a socket with no local address.
int recv_datagram(const hold& call, int fd, char* buf, int len, bool peek, sockaddr* from,
                  int* fromlen) {
  if (!has_local_port(fd)) return fail_wsa(WSAEINVAL);
  proact::endpoint source = proact::endpoint::any(
      call.family() == AF_INET6 ? proact::address_family::ipv6 : proact::address_family::ipv4, 0);
  std::size_t source_length = source.size();
  std::size_t received = 0;
  bool truncated = false;
  const std::error_code ec =
      recv_from_native(call.waited(fd), buf, static_cast<std::size_t>(len), peek, source.data(),
                       source_length, received, truncated);
  if (call.closed_meanwhile()) return fail_wsa(WSAEINTR);
  if (ec) return fail_wsa(wsa_of(ec));
  if (from != nullptr) *fromlen = sockaddr_from(source, from, *fromlen);
  // The bytes that fit are in `buf`, as Windows leaves them.
  if (truncated) return fail_wsa(WSAEMSGSIZE);
  return static_cast<int>(received);
}

}  // namespace

int WSAAPI connect(SOCKET s, const struct sockaddr* name, int namelen) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return fail_wsa(WSAENOTSOCK);
  proact::endpoint remote;
  if (!endpoint_from(name, namelen, remote)) {
    const bool other_family = name != nullptr && namelen >= static_cast<int>(sizeof(sockaddr)) &&
                              name->sa_family != AF_INET && name->sa_family != AF_INET6;
    return fail_wsa(other_family ? WSAEAFNOSUPPORT : WSAEFAULT);
  }
  if (name->sa_family != so->family) return fail_wsa(WSAEAFNOSUPPORT);
  int fd = -1;
  {
    std::lock_guard lock(so->mutex);
    if (so->closing.load(std::memory_order_acquire)) return fail_wsa(WSAENOTSOCK);
    if (const int error = reopen_after_failed_connect(*so)) return fail_wsa(error);
    switch (so->role.load(std::memory_order_acquire)) {
      case socket_role::stream:
        return fail_wsa(WSAEISCONN);
      case socket_role::listener:
        return fail_wsa(WSAEINVAL);
      case socket_role::datagram:
        return fail_wsa(WSAEOPNOTSUPP);  // a UDP socket's default peer: not here
      case socket_role::unopened:
        break;
    }
    if (so->accept_target.load(std::memory_order_acquire)) return fail_wsa(WSAEINVAL);
    // Opened (bound, associated) as ConnectEx opens it.
    if (auto ec = open_as_stream(*so)) return fail_wsa(wsa_from(ec));
    fd = so->stream.native_handle();
    so->blocking_calls.fetch_add(1, std::memory_order_acq_rel);
  }
  const hold call(so);
  const std::error_code ec = connect_native(call.waited(fd), remote.data(), remote.size());
  if (call.closed_meanwhile()) return fail_wsa(WSAEINTR);
  if (!ec) {
    mark_connected(*so);
    return 0;
  }
  {
    // Windows lets a failed connect be tried again on the same socket: the
    // next one opens a fresh descriptor.
    std::lock_guard lock(so->mutex);
    if (!so->closing.load(std::memory_order_acquire) &&
        so->role.load(std::memory_order_acquire) == socket_role::stream) {
      (void)so->stream.close();
      so->role.store(socket_role::unopened, std::memory_order_release);
    }
  }
  return fail_wsa(wsa_of(ec));
}

int WSAAPI WSAConnect(SOCKET s, const struct sockaddr* name, int namelen, LPWSABUF lpCallerData,
                      LPWSABUF lpCalleeData, LPQOS lpSQOS, LPQOS lpGQOS) {
  // Connect data and quality of service: TCP/IP has neither.
  if (lpCallerData != nullptr || lpCalleeData != nullptr || lpSQOS != nullptr ||
      lpGQOS != nullptr) {
    return fail_wsa(WSAEOPNOTSUPP);
  }
  return connect(s, name, namelen);
}

namespace {

// send (`addressed` false) and sendto.
int send_on(SOCKET s, const char* buf, int len, int flags, bool addressed, const sockaddr* to,
            int tolen) {
  // MSG_DONTROUTE: a hint providers may ignore. MSG_OOB: not here.
  if ((flags & ~MSG_DONTROUTE) != 0) return fail_wsa(WSAEOPNOTSUPP);
  if (len < 0) return fail_wsa(WSAEINVAL);
  if (buf == nullptr && len > 0) return fail_wsa(WSAEFAULT);
  socket_role role = socket_role::unopened;
  int fd = -1;
  const hold call(held_open(s, role, fd));
  if (!call) return SOCKET_ERROR;
  std::error_code ec;
  if (role == socket_role::datagram) {
    // No UDP connect here: a datagram needs its address.
    if (!addressed) return fail_wsa(WSAENOTCONN);
    if (to == nullptr) return fail_wsa(WSAEDESTADDRREQ);
    proact::endpoint target;
    if (!endpoint_from(to, tolen, target)) return fail_wsa(WSAEFAULT);
    if (to->sa_family != call.family()) return fail_wsa(WSAEAFNOSUPPORT);
    ec = send_to_native(call.waited(fd), buf, static_cast<std::size_t>(len), target.data(),
                        target.size());
  } else {
    // A stream ignores `to`, as Windows does.
    if (call.send_shut()) return fail_wsa(WSAESHUTDOWN);
    // Winsock's blocking send returns once every byte is taken.
    ec = send_all_native(call.waited(fd), buf, static_cast<std::size_t>(len));
  }
  if (call.closed_meanwhile()) return fail_wsa(WSAEINTR);
  if (ec) return fail_wsa(wsa_of(ec));
  return len;
}

}  // namespace

int WSAAPI send(SOCKET s, const char* buf, int len, int flags) {
  return send_on(s, buf, len, flags, false, nullptr, 0);
}

int WSAAPI sendto(SOCKET s, const char* buf, int len, int flags, const struct sockaddr* to,
                  int tolen) {
  return send_on(s, buf, len, flags, true, to, tolen);
}

int WSAAPI recv(SOCKET s, char* buf, int len, int flags) {
  return recvfrom(s, buf, len, flags, nullptr, nullptr);
}

int WSAAPI recvfrom(SOCKET s, char* buf, int len, int flags, struct sockaddr* from, int* fromlen) {
  if ((flags & ~(MSG_PEEK | MSG_WAITALL)) != 0) return fail_wsa(WSAEOPNOTSUPP);  // MSG_OOB
  if (len < 0) return fail_wsa(WSAEINVAL);
  if (buf == nullptr && len > 0) return fail_wsa(WSAEFAULT);
  socket_role role = socket_role::unopened;
  int fd = -1;
  const hold call(held_open(s, role, fd));
  if (!call) return SOCKET_ERROR;
  const bool peek = (flags & MSG_PEEK) != 0;
  if (role == socket_role::datagram) {
    if ((flags & MSG_WAITALL) != 0) return fail_wsa(WSAEOPNOTSUPP);
    // Checked before waiting, so that no datagram is taken and lost.
    if (from != nullptr &&
        (fromlen == nullptr ||
         *fromlen < (call.family() == AF_INET6 ? static_cast<int>(sizeof(sockaddr_in6))
                                               : static_cast<int>(sizeof(sockaddr_in))))) {
      return fail_wsa(WSAEFAULT);
    }
    return recv_datagram(call, fd, buf, len, peek, from, fromlen);
  }
  // A stream ignores `from`, as Windows does.
  if (call.recv_shut()) return fail_wsa(WSAESHUTDOWN);
  std::size_t received = 0;
  const std::error_code ec = recv_native(call.waited(fd), buf, static_cast<std::size_t>(len), peek,
                                         (flags & MSG_WAITALL) != 0, received);
  if (call.closed_meanwhile()) return fail_wsa(WSAEINTR);
  if (ec) return fail_wsa(wsa_of(ec));
  return static_cast<int>(received);  // 0: the peer's orderly end
}
