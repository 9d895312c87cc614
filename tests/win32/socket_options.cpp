// setsockopt and getsockopt: options set before the socket is bound or
// listening are kept and read back (SO_SNDBUF, SO_KEEPALIVE, SO_REUSEADDR,
// SO_LINGER, TCP_NODELAY); SO_TYPE, SO_ERROR, SO_ACCEPTCONN; SO_CONNECT_TIME
// (0xFFFFFFFF until connected, then seconds) on AcceptEx's and ConnectEx's
// sockets; refusals: a short optlen, an unknown option, a closed socket.
#include "scenario.h"

using namespace scenario;

namespace {

void get_int(const char* what, SOCKET s, int level, int name, int optlen = sizeof(int)) {
  int value = -1;
  int length = optlen;
  WSASetLastError(0);
  const int r = getsockopt(s, level, name, reinterpret_cast<char*>(&value), &length);
  std::printf("getsockopt (%s): %d", what, r);
  if (r == 0) {
    std::printf(" value=%d length=%d", value, length);
  } else {
    std::printf(" error=%d", WSAGetLastError());
  }
  std::printf("\n");
}

// A BOOLEAN answer (Winsock writes one byte for some options): its first
// byte, and the length.
void get_flag(const char* what, SOCKET s, int level, int name) {
  char value[4] = {9, 9, 9, 9};
  int length = sizeof value;
  const int r = getsockopt(s, level, name, value, &length);
  std::printf("getsockopt (%s): %d value=%d length=%d\n", what, r, value[0], length);
}

void set_int(const char* what, SOCKET s, int level, int name, int value) {
  WSASetLastError(0);
  const int r = setsockopt(s, level, name, reinterpret_cast<const char*>(&value), sizeof value);
  std::printf("setsockopt (%s): %d", what, r);
  if (r != 0) std::printf(" error=%d", WSAGetLastError());
  std::printf("\n");
}

void connect_time(const char* what, SOCKET s) {
  DWORD seconds = 0;
  int length = sizeof seconds;
  const int r =
      getsockopt(s, SOL_SOCKET, SO_CONNECT_TIME, reinterpret_cast<char*>(&seconds), &length);
  std::printf("getsockopt (SO_CONNECT_TIME, %s): %d %s\n", what, r,
              r != 0                   ? "failed"
              : seconds == 0xFFFFFFFFu ? "not connected"
              : seconds < 60           ? "connected, under a minute"
                                       : "connected, too long ago");
}

}  // namespace

int main() {
  HANDLE port = open_port();
  SOCKET s = new_socket();
  get_int("SO_TYPE, a TCP socket", s, SOL_SOCKET, SO_TYPE);
  get_int("SO_ERROR", s, SOL_SOCKET, SO_ERROR);
  get_int("SO_ACCEPTCONN, not listening", s, SOL_SOCKET, SO_ACCEPTCONN);
  get_flag("SO_KEEPALIVE, new", s, SOL_SOCKET, SO_KEEPALIVE);
  connect_time("a new socket", s);

  set_int("SO_SNDBUF 32768, before bind", s, SOL_SOCKET, SO_SNDBUF, 32768);
  int sndbuf = 0;
  int length = sizeof sndbuf;
  getsockopt(s, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<char*>(&sndbuf), &length);
  // Windows answers what was set; Wine what Linux reports (twice that).
  std::printf("getsockopt (SO_SNDBUF): at least 32768: %d\n", sndbuf >= 32768);
  set_int("SO_KEEPALIVE 1", s, SOL_SOCKET, SO_KEEPALIVE, 1);
  get_flag("SO_KEEPALIVE", s, SOL_SOCKET, SO_KEEPALIVE);
  set_int("SO_REUSEADDR 1", s, SOL_SOCKET, SO_REUSEADDR, 1);
  get_int("SO_REUSEADDR", s, SOL_SOCKET, SO_REUSEADDR);
  set_int("TCP_NODELAY 1", s, IPPROTO_TCP, TCP_NODELAY, 1);
  int no_delay = 0;
  length = sizeof no_delay;
  const int got =
      getsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<char*>(&no_delay), &length);
  std::printf("getsockopt (TCP_NODELAY): %d on: %d length=%d\n", got, (no_delay & 0xff) != 0,
              length);
  LINGER linger{1, 0};
  std::printf(
      "setsockopt (SO_LINGER {1, 0}): %d\n",
      setsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&linger), sizeof linger));
  LINGER back{7, 7};
  length = sizeof back;
  const int lr = getsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<char*>(&back), &length);
  std::printf("getsockopt (SO_LINGER): %d {%d, %d} length=%d\n", lr, back.l_onoff, back.l_linger,
              length);

  sockaddr_in a = loopback(0);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind");
  if (listen(s, SOMAXCONN) != 0) fail("listen");
  associate(port, s, 1);
  get_int("SO_ACCEPTCONN, listening", s, SOL_SOCKET, SO_ACCEPTCONN);
  get_flag("SO_KEEPALIVE, listening", s, SOL_SOCKET, SO_KEEPALIVE);

  const extensions x = load_extensions(s);
  SOCKET server = INVALID_SOCKET;
  SOCKET client = INVALID_SOCKET;
  op accept_a("accept_a");
  op connect_a("connect_a");
  SOCKET waiting = new_socket();
  connect_time("an AcceptEx target before its connection", waiting);
  closesocket(waiting);
  connect_pair(port, s, x, 3, 2, server, client, accept_a, connect_a);
  connect_time("the accepted socket", server);
  connect_time("the ConnectEx socket", client);
  get_int("SO_TYPE, connected", server, SOL_SOCKET, SO_TYPE);
  get_int("SO_ERROR, connected", client, SOL_SOCKET, SO_ERROR);

  get_int("SO_TYPE with optlen 2", s, SOL_SOCKET, SO_TYPE, 2);
  get_int("an unknown option", s, SOL_SOCKET, 0x7777);
  SOCKET u = WSASocketA(AF_INET, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_OVERLAPPED);
  if (u == INVALID_SOCKET) fail("WSASocket (UDP)");
  get_int("SO_TYPE, a UDP socket", u, SOL_SOCKET, SO_TYPE);
  closesocket(u);
  closesocket(server);
  closesocket(client);
  closesocket(s);
  get_int("SO_TYPE, a closed socket", s, SOL_SOCKET, SO_TYPE);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
