// WSASendTo / WSARecvFrom: a datagram and its source, datagrams received in
// the order sent, truncation (ERROR_MORE_DATA from the port, WSAEMSGSIZE
// from WSAGetOverlappedResult, the bytes that fit), an empty datagram,
// cancel.
#include "scenario.h"

using namespace scenario;

namespace {

SOCKET udp_on_loopback(HANDLE port, ULONG_PTR key) {
  SOCKET s = WSASocketA(AF_INET, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_OVERLAPPED);
  if (s == INVALID_SOCKET) fail("WSASocket(SOCK_DGRAM)");
  sockaddr_in a = loopback(0);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind(udp)");
  associate(port, s, key);
  return s;
}

sockaddr_in source;
int source_length = sizeof source;

void recv_from(SOCKET s, char* buf, ULONG len, op& o) {
  WSABUF b = wsabuf(buf, len);
  DWORD flags = 0;
  DWORD bytes = 0;
  o.reset();
  std::memset(&source, 0, sizeof source);
  source_length = sizeof source;
  started("WSARecvFrom", o,
          WSARecvFrom(s, &b, 1, &bytes, &flags, reinterpret_cast<sockaddr*>(&source),
                      &source_length, &o.ov, nullptr) == 0);
}

void send_to(SOCKET s, const char* text, SOCKET to, op& o) {
  WSABUF b = wsabuf(const_cast<char*>(text), static_cast<ULONG>(std::strlen(text)));
  sockaddr_in target = loopback(port_of(to));
  DWORD bytes = 0;
  o.reset();
  started("WSASendTo", o,
          WSASendTo(s, &b, 1, &bytes, 0, reinterpret_cast<sockaddr*>(&target), sizeof target, &o.ov,
                    nullptr) == 0);
}

}  // namespace

int main() {
  HANDLE port = open_port();
  SOCKET a = udp_on_loopback(port, 1);
  SOCKET b = udp_on_loopback(port, 2);
  char buf[16];

  op recv_1("recv_1"), send_1("send_1");
  recv_from(a, buf, sizeof buf, recv_1);
  send_to(b, "hello", a, send_1);
  dequeue_group(port, 2, "one datagram");
  print_received(a, recv_1, buf);
  std::printf("source: family=%d length=%d is_sender_port=%d\n", source.sin_family, source_length,
              ntohs(source.sin_port) == port_of(b));

  // Sent before any recv: received in the order sent.
  op send_2("send_2"), send_3("send_3"), recv_2("recv_2"), recv_3("recv_3");
  send_to(b, "one", a, send_2);
  send_to(b, "two", a, send_3);
  dequeue_group(port, 2, "two sends");
  char b2[16], b3[16];
  recv_from(a, b2, sizeof b2, recv_2);
  dequeue_one(port, "first datagram");
  recv_from(a, b3, sizeof b3, recv_3);
  dequeue_one(port, "second datagram");
  print_received(a, recv_2, b2);
  print_received(a, recv_3, b3);

  // Truncated.
  op recv_4("recv_4"), send_4("send_4");
  char small[4];
  recv_from(a, small, sizeof small, recv_4);
  send_to(b, "truncated!", a, send_4);
  dequeue_group(port, 2, "a datagram larger than the buffer");
  DWORD n = 0;
  DWORD flags = 0;
  const BOOL ok = WSAGetOverlappedResult(a, &recv_4.ov, &n, FALSE, &flags);
  std::printf("WSAGetOverlappedResult(recv_4): %s bytes=%lu WSAGetLastError=%d data=\"%.*s\"\n",
              ok ? "TRUE" : "FALSE", static_cast<unsigned long>(n), ok ? 0 : WSAGetLastError(),
              static_cast<int>(n), small);

  // Empty.
  op recv_5("recv_5"), send_5("send_5");
  recv_from(a, buf, sizeof buf, recv_5);
  send_to(b, "", a, send_5);
  dequeue_group(port, 2, "an empty datagram");

  // Cancelled.
  op recv_6("recv_6");
  recv_from(a, buf, sizeof buf, recv_6);
  result("CancelIoEx(a, recv_6)", CancelIoEx(reinterpret_cast<HANDLE>(a), &recv_6.ov));
  dequeue_one(port, "cancelled recv");

  closesocket(a);
  closesocket(b);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
