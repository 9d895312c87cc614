// The blocking datagram calls: sendto and recvfrom (the source address,
// MSG_PEEK, a datagram longer than the buffer, an empty one), recv on a
// bound UDP socket, the refusals (not bound, no address, an address buffer
// too small), and a blocked recvfrom ended by closesocket from another
// thread.
#include "scenario.h"

using namespace scenario;

namespace {

SOCKET udp_socket() {
  SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  if (s == INVALID_SOCKET) fail("socket(SOCK_DGRAM)");
  return s;
}

SOCKET bound_udp() {
  SOCKET s = udp_socket();
  sockaddr_in a = loopback(0);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind");
  return s;
}

int error_of(int result) {
  return result == SOCKET_ERROR ? WSAGetLastError() : 0;
}

void print_result(const char* what, int result) {
  std::printf("%s: %d error=%d\n", what, result, error_of(result));
}

int send_to(SOCKET from, SOCKET to, const char* text) {
  sockaddr_in a = loopback(port_of(to));
  return sendto(from, text, static_cast<int>(std::strlen(text)), 0, reinterpret_cast<sockaddr*>(&a),
                sizeof a);
}

// recvfrom into `len` bytes; what came and from where.
void receive_from(SOCKET s, int len, int flags, SOCKET sender, const char* what) {
  char buf[32];
  sockaddr_in from;
  std::memset(&from, 0, sizeof from);
  int from_len = sizeof from;
  const int n = recvfrom(s, buf, len, flags, reinterpret_cast<sockaddr*>(&from), &from_len);
  const int e = error_of(n);
  // A truncated datagram leaves the bytes that fit.
  const int shown = n > 0 ? n : (e == WSAEMSGSIZE ? len : 0);
  std::printf("%s: %d error=%d data=\"%.*s\"", what, n, e, shown, buf);
  if (n != SOCKET_ERROR || e == WSAEMSGSIZE) {
    std::printf(" from len=%d family=%d is_sender_port=%d", from_len, from.sin_family,
                ntohs(from.sin_port) == port_of(sender));
  }
  std::printf("\n");
}

struct blocked_recv {
  SOCKET s = INVALID_SOCKET;
  HANDLE entering = nullptr;  // set just before the thread calls recvfrom
  bool failed = false;
  int error = 0;
};

DWORD WINAPI recv_until_closed(LPVOID arg) {
  auto* b = static_cast<blocked_recv*>(arg);
  SetEvent(b->entering);
  char buf[8];
  b->failed = recvfrom(b->s, buf, sizeof buf, 0, nullptr, nullptr) == SOCKET_ERROR;
  b->error = b->failed ? WSAGetLastError() : 0;
  return 0;
}

}  // namespace

int main() {
  WSADATA data;
  if (WSAStartup(MAKEWORD(2, 2), &data) != 0) fail("WSAStartup");
  SOCKET a = bound_udp();
  SOCKET b = bound_udp();

  print_result("sendto(a -> b)", send_to(a, b, "datagram"));
  receive_from(b, 32, MSG_PEEK, a, "recvfrom(b, MSG_PEEK)");
  receive_from(b, 32, 0, a, "recvfrom(b)");
  print_result("sendto(b -> a)", send_to(b, a, "longer than four"));
  receive_from(a, 4, 0, b, "recvfrom(a, 4 bytes)");
  print_result("sendto(a -> b, empty)", send_to(a, b, ""));
  receive_from(b, 32, 0, a, "recvfrom(b, the empty one)");
  print_result("sendto(a -> b)", send_to(a, b, "plain"));
  char buf[16];
  const int n = recv(b, buf, sizeof buf, 0);
  std::printf("recv(b): %d error=%d data=\"%.*s\"\n", n, error_of(n), n > 0 ? n : 0, buf);

  // Refusals: a socket with no address yet, no destination, an address
  // buffer too small (with a datagram waiting, so that no call blocks).
  SOCKET unbound = udp_socket();
  if (under_wine()) {
    // Wine waits for a datagram that cannot come.
    wine_difference("recvfrom on a socket not bound", "Wine blocks");
    WSASetLastError(WSAEINVAL);
    print_result("recvfrom (not bound)", SOCKET_ERROR);
  } else {
    print_result("recvfrom (not bound)", recvfrom(unbound, buf, sizeof buf, 0, nullptr, nullptr));
  }
  int r = sendto(a, "x", 1, 0, nullptr, 0);
  if (r == SOCKET_ERROR && WSAGetLastError() == WSAEINVAL && under_wine()) {
    wine_difference("sendto without an address", "Wine answers 10022");
    WSASetLastError(WSAEDESTADDRREQ);
  }
  print_result("sendto (no address)", r);
  r = send(a, "x", 1, 0);
  if (r == SOCKET_ERROR && WSAGetLastError() == WSAEINVAL && under_wine()) {
    wine_difference("send on a UDP socket not connected", "Wine answers 10022");
    WSASetLastError(WSAENOTCONN);
  }
  print_result("send (not connected)", r);
  print_result("sendto(a -> b)", send_to(a, b, "waiting"));
  sockaddr_in from;
  int small = 8;
  r = recvfrom(b, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &small);
  if (r != SOCKET_ERROR && under_wine()) {
    wine_difference("recvfrom with fromlen 8", "Wine receives, the address cut short");
    r = SOCKET_ERROR;
    WSASetLastError(WSAEFAULT);
  }
  print_result("recvfrom (fromlen 8)", r);
  closesocket(unbound);
  closesocket(a);
  closesocket(b);

  // A thread blocked in recvfrom: closesocket ends it. Only that it failed
  // is traced (Windows' error is not Wine's; stderr has it).
  blocked_recv blocked;
  blocked.s = bound_udp();
  blocked.entering = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  if (blocked.entering == nullptr) fail("CreateEvent");
  HANDLE thread = CreateThread(nullptr, 0, recv_until_closed, &blocked, 0, nullptr);
  if (thread == nullptr) fail("CreateThread");
  WaitForSingleObject(blocked.entering, INFINITE);
  // Most likely inside recvfrom by now; if not, it fails all the same (the
  // socket is gone).
  Sleep(100);
  print_result("closesocket", closesocket(blocked.s));
  const DWORD waited = WaitForSingleObject(thread, 10000);
  std::printf("blocked recvfrom: thread %lu, the call %s\n", static_cast<unsigned long>(waited),
              blocked.failed ? "failed" : "succeeded");
  std::fprintf(stderr, "blocked recvfrom: error %d\n", blocked.error);
  CloseHandle(thread);
  CloseHandle(blocked.entering);
  WSACleanup();
  return 0;
}
