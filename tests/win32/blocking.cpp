// The blocking calls: connect, accept (the peer's address), send and recv
// both ways (MSG_PEEK), the accepted socket then associated with a port and
// a WSARecv completing through it (the shape of Microsoft's iocpserver
// sample), shutdown (recv 0, then WSAESHUTDOWN), a refused connect tried
// again, WSAAccept's condition function, the refusals (addrlen too small,
// not listening, not connected), and a blocked accept ended by closesocket
// from another thread.
#include <ws2tcpip.h>

#include "scenario.h"

using namespace scenario;

namespace {

int error_of(int result) {
  return result == SOCKET_ERROR ? WSAGetLastError() : 0;
}

void print_result(const char* what, int result) {
  std::printf("%s: %d error=%d\n", what, result, error_of(result));
}

void print_accept(const char* what, SOCKET s) {
  std::printf("%s: %s error=%d\n", what, s == INVALID_SOCKET ? "INVALID_SOCKET" : "socket",
              s == INVALID_SOCKET ? WSAGetLastError() : 0);
}

// A listener on 127.0.0.1 (any port), associated with no port.
SOCKET plain_listener() {
  SOCKET l = new_socket();
  sockaddr_in a = loopback(0);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind");
  if (listen(l, SOMAXCONN) != 0) fail("listen");
  return l;
}

int connect_to(SOCKET c, u_short port) {
  sockaddr_in to = loopback(port);
  return connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

void receive(SOCKET s, int flags, const char* what) {
  char buf[32];
  const int n = recv(s, buf, sizeof buf, flags);
  std::printf("%s: %d error=%d data=\"%.*s\"\n", what, n, error_of(n), n > 0 ? n : 0, buf);
}

// WSAAccept's condition function: looks at the caller, then refuses.
int CALLBACK refuse_caller(LPWSABUF caller_id, LPWSABUF, LPQOS, LPQOS, LPWSABUF, LPWSABUF, GROUP*,
                           DWORD_PTR data) {
  const auto* a = reinterpret_cast<const sockaddr_in*>(caller_id->buf);
  std::printf("condition: caller len=%lu family=%d loopback=%d data=%llu\n",
              static_cast<unsigned long>(caller_id->len), a->sin_family,
              a->sin_addr.s_addr == htonl(INADDR_LOOPBACK), static_cast<unsigned long long>(data));
  return CF_REJECT;
}

// A call that blocks on `s` in a thread of its own, until another thread
// closes `s`.
struct blocked_call {
  SOCKET s = INVALID_SOCKET;
  bool accepting = false;     // accept, else recv
  HANDLE entering = nullptr;  // set just before the thread makes the call
  bool failed = false;
  int error = 0;
};

DWORD WINAPI call_until_closed(LPVOID arg) {
  auto* b = static_cast<blocked_call*>(arg);
  SetEvent(b->entering);
  if (b->accepting) {
    b->failed = accept(b->s, nullptr, nullptr) == INVALID_SOCKET;
  } else {
    char buf[8];
    b->failed = recv(b->s, buf, sizeof buf, 0) == SOCKET_ERROR;
  }
  b->error = b->failed ? WSAGetLastError() : 0;
  return 0;
}

// Starts the call, closes its socket and prints what the call answered:
// only that it failed (Windows' error is not Wine's; stderr has it).
void close_under(SOCKET s, bool accepting, const char* what) {
  blocked_call b;
  b.s = s;
  b.accepting = accepting;
  b.entering = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  if (b.entering == nullptr) fail("CreateEvent");
  HANDLE thread = CreateThread(nullptr, 0, call_until_closed, &b, 0, nullptr);
  if (thread == nullptr) fail("CreateThread");
  WaitForSingleObject(b.entering, INFINITE);
  // Most likely inside the call by now; if not, it fails all the same (the
  // socket is gone), which is all the trace says.
  Sleep(100);
  std::printf("%s: closesocket: %d\n", what, closesocket(s));
  const DWORD waited = WaitForSingleObject(thread, 10000);
  std::printf("%s: thread %lu, the call %s\n", what, static_cast<unsigned long>(waited),
              b.failed ? "failed" : "succeeded");
  std::fprintf(stderr, "%s: error %d\n", what, b.error);
  CloseHandle(thread);
  CloseHandle(b.entering);
}

}  // namespace

int main() {
  HANDLE port = open_port();
  SOCKET listener = plain_listener();

  // A blocking connect completes from the backlog; accept then takes it.
  SOCKET client = new_socket();
  print_result("connect", connect_to(client, port_of(listener)));
  sockaddr_in peer;
  std::memset(&peer, 0, sizeof peer);
  int peer_len = sizeof peer;
  SOCKET server = accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_len);
  print_accept("accept", server);
  std::printf("accept: peer len=%d family=%d loopback=%d is_client_port=%d\n", peer_len,
              peer.sin_family, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
              ntohs(peer.sin_port) == port_of(client));

  // Both ways, blocking; a peek leaves the bytes.
  print_result("send(client)", send(client, "hello", 5, 0));
  receive(server, MSG_PEEK, "recv(server, MSG_PEEK)");
  receive(server, 0, "recv(server)");
  print_result("send(server)", send(server, "world!", 6, 0));
  receive(client, 0, "recv(client)");

  // iocpserver: the accepted socket associated with the port, then WSARecv.
  associate(port, server, 7);
  char buf[16];
  op recv_a("recv_a");
  recv_into(server, buf, sizeof buf, recv_a);
  print_result("send(client)", send(client, "ping", 4, 0));
  dequeue_one(port, "the WSARecv of the accepted socket");
  print_received(server, recv_a, buf);

  // The server's orderly end: recv gives 0. The client's: its send fails,
  // and the server's WSARecv completes with 0 bytes.
  print_result("shutdown(server, SD_SEND)", shutdown(server, SD_SEND));
  receive(client, 0, "recv(client) after the server's end");
  print_result("shutdown(client, SD_SEND)", shutdown(client, SD_SEND));
  print_result("send(client) after its end", send(client, "x", 1, 0));
  op recv_b("recv_b");
  recv_into(server, buf, sizeof buf, recv_b);
  dequeue_one(port, "the WSARecv after the client's end");
  closesocket(server);
  closesocket(client);

  // Nothing listens at a closed listener's port: refused. The same socket
  // may connect again.
  SOCKET gone = plain_listener();
  const u_short gone_port = port_of(gone);
  closesocket(gone);
  SOCKET again = new_socket();
  sockaddr_in short_name = loopback(gone_port);
  int refusal = connect(again, reinterpret_cast<sockaddr*>(&short_name), 8);
  if (refusal == SOCKET_ERROR && WSAGetLastError() == WSAEADDRNOTAVAIL && under_wine()) {
    wine_difference("connect with namelen 8", "Wine answers 10049");
    WSASetLastError(WSAEFAULT);
  }
  print_result("connect (namelen 8)", refusal);
  sockaddr_in6 v6;
  std::memset(&v6, 0, sizeof v6);
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(gone_port);
  v6.sin6_addr.s6_addr[15] = 1;
  refusal = connect(again, reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  if (refusal == SOCKET_ERROR && WSAGetLastError() == WSAEOPNOTSUPP && under_wine()) {
    wine_difference("connect to an IPv6 address from an IPv4 socket", "Wine answers 10045");
    WSASetLastError(WSAEAFNOSUPPORT);
  }
  print_result("connect (IPv6 address, IPv4 socket)", refusal);
  print_result("connect (nothing listening)", connect_to(again, gone_port));
  int connected = connect_to(again, port_of(listener));
  if (connected == SOCKET_ERROR && WSAGetLastError() == WSAECONNABORTED && under_wine()) {
    wine_difference("connect again after a refused connect", "Wine fails it (10053)");
    closesocket(again);
    again = new_socket();
    connected = connect_to(again, port_of(listener));
  }
  print_result("connect (again, to the listener)", connected);
  SOCKET accepted = accept(listener, nullptr, nullptr);
  print_accept("accept (no address asked)", accepted);
  closesocket(accepted);
  closesocket(again);

  // WSAAccept's condition function sees the caller and refuses it.
  SOCKET refused = new_socket();
  print_result("connect", connect_to(refused, port_of(listener)));
  print_accept("WSAAccept (condition refuses)",
               WSAAccept(listener, nullptr, nullptr, refuse_caller, 42));
  closesocket(refused);

  // Refusals: an address buffer too small (checked with a connection
  // waiting, so that no call blocks), a socket that does not listen, a
  // socket not connected.
  SOCKET waiting = new_socket();
  print_result("connect", connect_to(waiting, port_of(listener)));
  int small = 8;
  print_accept("accept (addrlen 8)", accept(listener, reinterpret_cast<sockaddr*>(&peer), &small));
  closesocket(waiting);
  SOCKET idle = new_socket();
  print_accept("accept (not listening)", accept(idle, nullptr, nullptr));
  receive(idle, 0, "recv (not connected)");
  int sent = send(idle, "x", 1, 0);
  if (sent == SOCKET_ERROR && WSAGetLastError() == WSAECONNRESET && under_wine()) {
    wine_difference("send on a socket not connected", "Wine answers 10054");
    WSASetLastError(WSAENOTCONN);
  }
  print_result("send (not connected)", sent);
  closesocket(idle);
  closesocket(listener);

  // Threads blocked in accept and in recv: closesocket ends them.
  close_under(plain_listener(), true, "blocked accept");
  listener = plain_listener();
  client = new_socket();
  print_result("connect", connect_to(client, port_of(listener)));
  server = accept(listener, nullptr, nullptr);
  print_accept("accept", server);
  close_under(server, false, "blocked recv");
  receive(client, 0, "recv (the peer closed)");
  closesocket(client);
  closesocket(listener);

  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
