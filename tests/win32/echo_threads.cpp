// A classic completion-port echo server and its clients in one process:
// worker threads in GetQueuedCompletionStatus, connection records found from
// their OVERLAPPED (CONTAINING_RECORD), AcceptEx posted ahead for every
// connection, one operation at a time per connection side, a stop packet per
// worker. Every echo is checked; the trace is the totals.
#include <cstddef>

#include "scenario.h"

using namespace scenario;

namespace {

constexpr ULONG_PTR stop_key = 0;
constexpr ULONG_PTR listener_key = 1;
constexpr ULONG_PTR server_key = 2;
constexpr ULONG_PTR client_key = 3;
constexpr int connections = 20;
constexpr int messages = 50;
constexpr ULONG message_size = 32;
constexpr DWORD workers = 4;

struct connection {
  OVERLAPPED ov;  // the one operation in flight on this side
  SOCKET s = INVALID_SOCKET;
  bool server = false;
  bool sending = false;
  bool connected = false;  // client: its ConnectEx packet came
  int id = 0;
  int sent_messages = 0;
  ULONG have = 0;  // client: bytes of the current echo received
  char buf[message_size];
  char out[message_size];
  char addresses[2 * address_space];
};

HANDLE port;
SOCKET listener;
extensions x;
connection servers[connections];
connection clients[connections];
LONG clients_done = 0;
LONG verified = 0;
LONG mismatches = 0;
LONG failures = 0;

void fill(connection& c) {
  for (ULONG i = 0; i < message_size; ++i) {
    c.out[i] = static_cast<char>('a' + (c.id + c.sent_messages + static_cast<int>(i)) % 26);
  }
}

void start_recv(connection& c, char* at, ULONG len) {
  std::memset(&c.ov, 0, sizeof c.ov);
  c.sending = false;
  WSABUF b = wsabuf(at, len);
  DWORD flags = 0;
  DWORD bytes = 0;
  if (WSARecv(c.s, &b, 1, &bytes, &flags, &c.ov, nullptr) != 0 &&
      WSAGetLastError() != WSA_IO_PENDING) {
    InterlockedIncrement(&failures);
  }
}

void start_send(connection& c, char* from, ULONG len) {
  std::memset(&c.ov, 0, sizeof c.ov);
  c.sending = true;
  WSABUF b = wsabuf(from, len);
  DWORD bytes = 0;
  if (WSASend(c.s, &b, 1, &bytes, 0, &c.ov, nullptr) != 0 && WSAGetLastError() != WSA_IO_PENDING) {
    InterlockedIncrement(&failures);
  }
}

void client_next(connection& c) {
  if (c.sent_messages == messages) {
    shutdown(c.s, SD_SEND);
    if (InterlockedIncrement(&clients_done) == connections) {
      for (DWORD i = 0; i < workers; ++i) PostQueuedCompletionStatus(port, 0, stop_key, nullptr);
    }
    return;
  }
  fill(c);
  c.have = 0;
  start_send(c, c.out, message_size);
}

void on_client(connection& c, BOOL ok, DWORD bytes, bool connected_now) {
  if (!ok) {
    InterlockedIncrement(&failures);
    return;
  }
  if (connected_now) {
    setsockopt(c.s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
    client_next(c);
  } else if (c.sending) {
    start_recv(c, c.buf, message_size);
  } else {
    c.have += bytes;
    if (bytes == 0) {
      InterlockedIncrement(&failures);
    } else if (c.have < message_size) {
      start_recv(c, c.buf + c.have, message_size - c.have);
    } else {
      InterlockedIncrement(std::memcmp(c.buf, c.out, message_size) == 0 ? &verified : &mismatches);
      ++c.sent_messages;
      client_next(c);
    }
  }
}

void on_server(connection& c, BOOL ok, DWORD bytes, bool accepted_now) {
  if (!ok) {
    InterlockedIncrement(&failures);
    return;
  }
  if (accepted_now) {
    setsockopt(c.s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener),
               sizeof listener);
    if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(c.s), port, server_key, 0) != port) {
      InterlockedIncrement(&failures);
      return;
    }
    start_recv(c, c.buf, message_size);
  } else if (c.sending) {
    start_recv(c, c.buf, message_size);
  } else if (bytes > 0) {
    // Echo what came (the client may send in pieces).
    std::memcpy(c.out, c.buf, bytes);
    start_send(c, c.out, bytes);
  }
  // bytes == 0: the client's FIN; the connection is done.
}

DWORD WINAPI worker(LPVOID) {
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* ov = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE);
    if (ov == nullptr) return key == stop_key && ok ? 0 : 1;
    connection* c = CONTAINING_RECORD(ov, connection, ov);
    if (key == listener_key) {
      on_server(*c, ok, bytes, true);
    } else if (key == server_key) {
      on_server(*c, ok, bytes, false);
    } else {
      // A client's first packet is its ConnectEx.
      const bool connected_now = !c->connected;
      c->connected = true;
      on_client(*c, ok, bytes, connected_now);
    }
  }
}

}  // namespace

int main() {
  port = open_port();
  listener = listen_on_loopback(port, listener_key);
  x = load_extensions(listener);
  for (int i = 0; i < connections; ++i) {
    connection& sc = servers[i];
    sc.server = true;
    sc.id = i;
    sc.s = new_socket();
    DWORD bytes = 0;
    if (!x.accept_ex(listener, sc.s, sc.addresses, 0, address_space, address_space, &bytes,
                     &sc.ov) &&
        WSAGetLastError() != WSA_IO_PENDING) {
      fail("AcceptEx");
    }
  }
  HANDLE threads[workers];
  for (DWORD i = 0; i < workers; ++i) {
    threads[i] = CreateThread(nullptr, 0, worker, nullptr, 0, nullptr);
    if (threads[i] == nullptr) fail("CreateThread");
  }
  sockaddr_in to = loopback(port_of(listener));
  for (int i = 0; i < connections; ++i) {
    connection& cc = clients[i];
    cc.id = i;
    cc.s = bound_client(port, client_key);
    DWORD bytes = 0;
    if (!x.connect_ex(cc.s, reinterpret_cast<sockaddr*>(&to), sizeof to, nullptr, 0, &bytes,
                      &cc.ov) &&
        WSAGetLastError() != WSA_IO_PENDING) {
      fail("ConnectEx");
    }
  }
  const DWORD waited = WaitForMultipleObjects(workers, threads, TRUE, 60000);
  std::printf("workers stopped: %s\n", waited == WAIT_OBJECT_0 ? "all" : "NOT ALL (timeout)");
  std::printf("clients done=%ld echoes verified=%ld of %d mismatches=%ld failures=%ld\n",
              static_cast<long>(clients_done), static_cast<long>(verified), connections * messages,
              static_cast<long>(mismatches), static_cast<long>(failures));
  for (DWORD i = 0; i < workers; ++i) CloseHandle(threads[i]);
  for (int i = 0; i < connections; ++i) {
    closesocket(servers[i].s);
    closesocket(clients[i].s);
  }
  closesocket(listener);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
