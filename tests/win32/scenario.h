// What every Win32 scenario shares. Written only against the Win32 API: the
// same source builds with MinGW against Windows' own headers (run under
// Wine) and on Linux against proact::win32 (the compat headers).
//
// A scenario prints a trace of what it starts and dequeues: completion key,
// the OVERLAPPED by name, bytes, the last error. Where completion order is
// not defined (two sockets, cancel-all), a group of packets is printed
// sorted by key, then name.
#pragma once

#include <mswsock.h>
#include <windows.h>
#include <winsock2.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace scenario {

struct named {
  const OVERLAPPED* ov;
  const char* name;
};
inline std::vector<named>& names() {
  static std::vector<named> all;
  return all;
}

// An OVERLAPPED with a stable name for the trace.
struct op {
  OVERLAPPED ov;
  const char* name;
  explicit op(const char* n) : ov(), name(n) { names().push_back({&ov, n}); }
  op(const op&) = delete;
  op& operator=(const op&) = delete;
  void reset() { std::memset(&ov, 0, sizeof ov); }
};

inline const char* name_of(const OVERLAPPED* ov) {
  if (ov == nullptr) return "NULL";
  // The newest first: an op in an inner scope may reuse an older one's address.
  for (auto it = names().rbegin(); it != names().rend(); ++it) {
    if (it->ov == ov) return it->name;
  }
  return "unknown";
}

inline void fail(const char* what) {
  std::printf("FATAL: %s (error %lu)\n", what, static_cast<unsigned long>(GetLastError()));
  std::fflush(stdout);
  std::exit(1);
}

// Under Wine (ntdll exports wine_get_version): for the documented
// differences (docs/iocp.md) a scenario prints Windows' value and says so on
// stderr.
inline bool under_wine() {
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}
inline void wine_difference(const char* what, const char* reason) {
  std::fprintf(stderr, "wine exception: %s: %s (docs/iocp.md)\n", what, reason);
}

// A wait on one handle or several, traced: its answer, and the last error
// if it failed.
inline void wait_one(const char* what, HANDLE h, DWORD milliseconds) {
  SetLastError(0);
  const DWORD result = WaitForSingleObject(h, milliseconds);
  std::printf("WaitForSingleObject (%s): %lu", what, static_cast<unsigned long>(result));
  if (result == WAIT_FAILED) std::printf(" error=%lu", static_cast<unsigned long>(GetLastError()));
  std::printf("\n");
}

inline void wait_many(const char* what, DWORD count, const HANDLE* handles, BOOL all,
                      DWORD milliseconds) {
  SetLastError(0);
  const DWORD result = WaitForMultipleObjects(count, handles, all, milliseconds);
  std::printf("WaitForMultipleObjects (%s): %lu", what, static_cast<unsigned long>(result));
  if (result == WAIT_FAILED) std::printf(" error=%lu", static_cast<unsigned long>(GetLastError()));
  std::printf("\n");
}

// One dequeued packet.
struct packet {
  BOOL ok = FALSE;
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  OVERLAPPED* ov = nullptr;
  DWORD error = 0;
};

inline void print(const packet& p) {
  std::printf("  %s key=%llu ov=%s bytes=%lu error=%lu\n", p.ok ? "TRUE " : "FALSE",
              static_cast<unsigned long long>(p.key), name_of(p.ov),
              static_cast<unsigned long>(p.bytes), static_cast<unsigned long>(p.error));
}

inline packet dequeue(HANDLE port, DWORD ms) {
  packet p;
  SetLastError(0);
  p.ok = GetQueuedCompletionStatus(port, &p.bytes, &p.key, &p.ov, ms);
  p.error = p.ok ? 0 : GetLastError();
  return p;
}

inline void dequeue_one(HANDLE port, const char* label, DWORD ms = 10000) {
  std::printf("GetQueuedCompletionStatus (%s):\n", label);
  print(dequeue(port, ms));
}

// n packets whose relative order is not defined: sorted by key, then name.
inline void dequeue_group(HANDLE port, int n, const char* label) {
  std::vector<packet> got;
  for (int i = 0; i < n; ++i) {
    packet p = dequeue(port, 10000);
    if (p.ov == nullptr && !p.ok) fail("dequeue_group: no packet");
    got.push_back(p);
  }
  std::sort(got.begin(), got.end(), [](const packet& a, const packet& b) {
    if (a.key != b.key) return a.key < b.key;
    return std::strcmp(name_of(a.ov), name_of(b.ov)) < 0;
  });
  std::printf("GetQueuedCompletionStatus x%d (%s):\n", n, label);
  for (const packet& p : got) print(p);
}

// A start call's answer: "pending" for success or ERROR_IO_PENDING (Windows
// may complete at once and still queue the packet), else its error.
inline void started(const char* call, const op& o, bool ok) {
  const DWORD e = ok ? 0 : static_cast<DWORD>(WSAGetLastError());
  if (ok || e == WSA_IO_PENDING) {
    std::printf("%s %s: pending\n", call, o.name);
  } else {
    std::printf("%s %s: failed error=%lu\n", call, o.name, static_cast<unsigned long>(e));
  }
}

inline void result(const char* what, BOOL ok) {
  std::printf("%s: %s error=%lu\n", what, ok ? "TRUE" : "FALSE",
              static_cast<unsigned long>(ok ? 0 : GetLastError()));
}

struct extensions {
  LPFN_ACCEPTEX accept_ex = nullptr;
  LPFN_CONNECTEX connect_ex = nullptr;
  LPFN_GETACCEPTEXSOCKADDRS get_sockaddrs = nullptr;
};

inline void load(SOCKET s, GUID id, void* out, std::size_t size) {
  DWORD bytes = 0;
  if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, out, static_cast<DWORD>(size),
               &bytes, nullptr, nullptr) != 0) {
    fail("WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)");
  }
}

inline extensions load_extensions(SOCKET s) {
  extensions x;
  GUID accept_id = WSAID_ACCEPTEX;
  GUID connect_id = WSAID_CONNECTEX;
  GUID sockaddrs_id = WSAID_GETACCEPTEXSOCKADDRS;
  load(s, accept_id, &x.accept_ex, sizeof x.accept_ex);
  load(s, connect_id, &x.connect_ex, sizeof x.connect_ex);
  load(s, sockaddrs_id, &x.get_sockaddrs, sizeof x.get_sockaddrs);
  return x;
}

inline HANDLE open_port() {
  WSADATA data;
  if (WSAStartup(MAKEWORD(2, 2), &data) != 0) fail("WSAStartup");
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  if (port == nullptr) fail("CreateIoCompletionPort");
  return port;
}

inline SOCKET new_socket() {
  SOCKET s = WSASocketA(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
  if (s == INVALID_SOCKET) fail("WSASocket");
  return s;
}

inline void associate(HANDLE port, SOCKET s, ULONG_PTR key) {
  if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(s), port, key, 0) != port) {
    fail("CreateIoCompletionPort(associate)");
  }
}

inline sockaddr_in loopback(u_short port) {
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

inline u_short port_of(SOCKET s) {
  sockaddr_in a;
  int len = sizeof a;
  if (getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) fail("getsockname");
  return ntohs(a.sin_port);
}

// A listener on 127.0.0.1 (any port), associated with `key`.
inline SOCKET listen_on_loopback(HANDLE port, ULONG_PTR key) {
  SOCKET l = new_socket();
  sockaddr_in a = loopback(0);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind");
  if (listen(l, SOMAXCONN) != 0) fail("listen");
  associate(port, l, key);
  return l;
}

// A client socket bound to the any-address (ConnectEx wants it bound).
inline SOCKET bound_client(HANDLE port, ULONG_PTR key) {
  SOCKET c = new_socket();
  sockaddr_in any;
  std::memset(&any, 0, sizeof any);
  any.sin_family = AF_INET;
  if (bind(c, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) fail("bind(client)");
  associate(port, c, key);
  return c;
}

constexpr DWORD address_space = sizeof(sockaddr_in) + 16;

// AcceptEx of `server` on `listener` into `out` (with `receive_length`
// bytes of initial data), ConnectEx of `client` (sending `data`), and their
// two packets. Traced like any other step.
inline void accept_and_connect(HANDLE port, SOCKET listener, const extensions& x, SOCKET server,
                               SOCKET client, op& accept_op, op& connect_op, char* out,
                               DWORD receive_length, char* data, const char* label) {
  DWORD bytes = 0;
  started(receive_length > 0 ? "AcceptEx (with data)" : "AcceptEx", accept_op,
          x.accept_ex(listener, server, out, receive_length, address_space, address_space, &bytes,
                      &accept_op.ov) != FALSE);
  sockaddr_in to = loopback(port_of(listener));
  const DWORD length = data == nullptr ? 0 : static_cast<DWORD>(std::strlen(data));
  started(data != nullptr ? "ConnectEx (with data)" : "ConnectEx", connect_op,
          x.connect_ex(client, reinterpret_cast<sockaddr*>(&to), sizeof to, data, length, &bytes,
                       &connect_op.ov) != FALSE);
  dequeue_group(port, 2, label);
}

// An AcceptEx into a new socket, left pending (traced); returns the socket.
inline SOCKET accept_pending(SOCKET listener, const extensions& x, op& accept_op) {
  static char addresses[2 * address_space];
  SOCKET spare = new_socket();
  DWORD bytes = 0;
  accept_op.reset();
  started("AcceptEx", accept_op,
          x.accept_ex(listener, spare, addresses, 0, address_space, address_space, &bytes,
                      &accept_op.ov) != FALSE);
  return spare;
}

// A connected pair: `server` accepted through AcceptEx on `listener`,
// `client` connected through ConnectEx.
inline void connect_pair(HANDLE port, SOCKET listener, const extensions& x, ULONG_PTR server_key,
                         ULONG_PTR client_key, SOCKET& server, SOCKET& client, op& accept_op,
                         op& connect_op) {
  static char addresses[2 * address_space];
  server = new_socket();
  client = bound_client(port, client_key);
  accept_and_connect(port, listener, x, server, client, accept_op, connect_op, addresses, 0,
                     nullptr, "accept and connect");
  if (setsockopt(server, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                 reinterpret_cast<const char*>(&listener), sizeof listener) != 0) {
    fail("SO_UPDATE_ACCEPT_CONTEXT");
  }
  if (setsockopt(client, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0) != 0) {
    fail("SO_UPDATE_CONNECT_CONTEXT");
  }
  associate(port, server, server_key);
}

// What most scenarios start from: a port, a listener (key 1) and its
// extension functions, and a connected pair: `server` (key 3) accepted with
// AcceptEx, `client` (key 2) connected with ConnectEx.
struct session {
  HANDLE port = nullptr;
  SOCKET listener = INVALID_SOCKET;
  extensions x;
  SOCKET server = INVALID_SOCKET;
  SOCKET client = INVALID_SOCKET;
  op accept_a{"accept_a"};
  op connect_a{"connect_a"};
};

inline void start(session& s) {
  s.port = open_port();
  s.listener = listen_on_loopback(s.port, 1);
  s.x = load_extensions(s.listener);
  connect_pair(s.port, s.listener, s.x, 3, 2, s.server, s.client, s.accept_a, s.connect_a);
}

// Closes what is still open of the session, then the port (traced).
inline void end(session& s) {
  if (s.server != INVALID_SOCKET) closesocket(s.server);
  if (s.client != INVALID_SOCKET) closesocket(s.client);
  closesocket(s.listener);
  result("CloseHandle(port)", CloseHandle(s.port));
  WSACleanup();
}

inline WSABUF wsabuf(char* data, ULONG length) {
  WSABUF b;
  b.len = length;
  b.buf = data;
  return b;
}

inline void recv_into(SOCKET s, char* buf, ULONG len, op& o) {
  WSABUF b = wsabuf(buf, len);
  DWORD flags = 0;
  DWORD bytes = 0;
  o.reset();
  started("WSARecv", o, WSARecv(s, &b, 1, &bytes, &flags, &o.ov, nullptr) == 0);
}

inline void send_from(SOCKET s, const char* text, op& o) {
  WSABUF b = wsabuf(const_cast<char*>(text), static_cast<ULONG>(std::strlen(text)));
  DWORD bytes = 0;
  o.reset();
  started("WSASend", o, WSASend(s, &b, 1, &bytes, 0, &o.ov, nullptr) == 0);
}

}  // namespace scenario

namespace scenario {

// What a completed recv holds, through GetOverlappedResult.
inline void print_received(SOCKET s, const op& o, const char* buf) {
  DWORD n = 0;
  const BOOL ok =
      GetOverlappedResult(reinterpret_cast<HANDLE>(s), const_cast<OVERLAPPED*>(&o.ov), &n, FALSE);
  std::printf("%s: %s bytes=%lu data=\"%.*s\"\n", o.name, ok ? "TRUE" : "FALSE",
              static_cast<unsigned long>(n), ok ? static_cast<int>(n) : 0, buf);
}

// A recv on `to`, then a send of `text` from `from`: both packets (in no
// defined order), then what arrived.
inline void exchange(HANDLE port, SOCKET to, SOCKET from, char* buf, ULONG len, const char* text,
                     op& recv_op, op& send_op, const char* label) {
  recv_into(to, buf, len, recv_op);
  send_from(from, text, send_op);
  dequeue_group(port, 2, label);
  print_received(to, recv_op, buf);
}

}  // namespace scenario
