// proact-win32-echo-server: the classic Win32 completion-port echo server,
// written only against the Win32 API. The same source builds for Windows
// and, against proact::win32 (docs/win32.md), for Linux.
//
//   proact-win32-echo-server [--port N] [--connections N] [--idle-timeout MS]
//
// 2 x processors worker threads wait in GetQueuedCompletionStatus; several
// AcceptEx calls are kept pending on the listener; each connection is one
// heap record that starts with its OVERLAPPED (the workers find it with
// CONTAINING_RECORD) and does one thing at a time: receive, then send the
// bytes back. EOF or an error closes the socket.
//
// Prints "listening on 0.0.0.0:PORT" first (--port 0: the port the system
// chose). Runs until Ctrl-C (on Linux SIGINT, or SIGTERM) or, with
// --connections N, until N connections have ended. Either sets the stop
// event the main thread waits on, as in Microsoft's IOCP samples; the main
// thread then closes the listener (the pending AcceptEx calls complete with
// an error), posts one stop packet per worker, waits for them and prints
// "stats: connections_accepted=A bytes_echoed=B workers=W".
//
// Idle timeout (--idle-timeout, in ms; 5 minutes by default, as the proact
// echo server's): once a second the main thread cancels (CancelIoEx) each
// receive or send that has waited that long; its completion then closes the
// connection. So a silent client, or one that stops reading, does not hold
// its record (about 8 KB) and socket for ever. AcceptEx receives no initial
// data, so a client that connects and says nothing does not hold one of the
// pending accepts either.
#include <mswsock.h>
#include <windows.h>
#include <winsock2.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr ULONG_PTR stop_key = 0;  // a packet with no OVERLAPPED: the worker returns
constexpr ULONG_PTR listener_key = 1;
constexpr ULONG_PTR connection_key = 2;
constexpr int accepts_pending = 8;
constexpr DWORD buffer_size = 8192;
constexpr DWORD address_size = sizeof(sockaddr_in) + 16;

enum class step { accept, recv, send };

struct connection {
  OVERLAPPED ov;  // first, as in every classic server
  step what;
  SOCKET s;
  DWORD length;  // bytes received, to echo
  DWORD sent;    // of them, sent so far
  // GetTickCount() when the current receive or send started; whether the
  // idle check cancelled it. Interlocked: the main thread reads them.
  LONG step_started;
  LONG timed_out;
  connection* prev;  // in the list of open connections (open_lock)
  connection* next;
  char buffer[buffer_size];
  char addresses[2 * address_size];
};

struct worker_totals {
  unsigned long long accepted = 0;
  unsigned long long bytes = 0;
};

HANDLE port;
SOCKET listener;
LPFN_ACCEPTEX accept_ex;
WSAEVENT stop_requested = WSA_INVALID_EVENT;  // Ctrl-C, or --connections reached
LONG stop_after = 0;                          // --connections; 0: run until Ctrl-C
LONG ended = 0;
LONG stopping = 0;
LONG accepts_outstanding = 0;
LONG stop_posted = 0;
DWORD workers = 0;
DWORD idle_timeout_ms = 300000;  // --idle-timeout
// The open connections, for the idle check: a worker links one in once it is
// accepted and out before it is freed, so the check never sees a freed one.
CRITICAL_SECTION open_lock;
connection* open_first = nullptr;

// Win32 passes a SOCKET where a HANDLE is wanted (CreateIoCompletionPort).
HANDLE as_handle(SOCKET s) {
  return reinterpret_cast<HANDLE>(s);  // NOLINT(performance-no-int-to-ptr)
}

// Once stopping and no AcceptEx is outstanding: one stop packet per worker.
void post_stop_if_done() {
  if (InterlockedCompareExchange(&stopping, 0, 0) == 0) return;
  if (InterlockedCompareExchange(&accepts_outstanding, 0, 0) != 0) return;
  if (InterlockedExchange(&stop_posted, 1) != 0) return;
  for (DWORD i = 0; i < workers; ++i) PostQueuedCompletionStatus(port, 0, stop_key, nullptr);
}

void begin_stop() {
  if (InterlockedExchange(&stopping, 1) != 0) return;
  closesocket(listener);  // the pending AcceptEx calls complete, each with an error
  post_stop_if_done();
}

void free_connection(connection* c) {
  closesocket(c->s);
  HeapFree(GetProcessHeap(), 0, c);
}

void link_open(connection* c) {
  EnterCriticalSection(&open_lock);
  c->prev = nullptr;
  c->next = open_first;
  if (open_first != nullptr) open_first->prev = c;
  open_first = c;
  LeaveCriticalSection(&open_lock);
}

// Only for an accepted connection (linked in).
void end_connection(connection* c) {
  EnterCriticalSection(&open_lock);
  (c->prev != nullptr ? c->prev->next : open_first) = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  LeaveCriticalSection(&open_lock);
  free_connection(c);
  if (InterlockedIncrement(&ended) == stop_after) WSASetEvent(stop_requested);
}

// One more AcceptEx pending (each completed one is replaced; one that
// cannot start is said on stderr, the others go on).
void post_accept() {
  auto* c =
      static_cast<connection*>(HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(connection)));
  if (c == nullptr) {
    std::fprintf(stderr, "HeapAlloc failed: one accept fewer\n");
    return;
  }
  c->what = step::accept;
  c->s = WSASocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
  if (c->s == INVALID_SOCKET) {
    std::fprintf(stderr, "WSASocket failed: error %lu; one accept fewer\n",
                 static_cast<unsigned long>(WSAGetLastError()));
    HeapFree(GetProcessHeap(), 0, c);
    return;
  }
  InterlockedIncrement(&accepts_outstanding);
  DWORD bytes = 0;
  if (!accept_ex(listener, c->s, c->addresses, 0, address_size, address_size, &bytes, &c->ov)) {
    const int error = WSAGetLastError();
    if (error != ERROR_IO_PENDING) {
      if (InterlockedCompareExchange(&stopping, 0, 0) == 0) {
        std::fprintf(stderr, "AcceptEx failed: error %d; one accept fewer\n", error);
      }
      free_connection(c);
      InterlockedDecrement(&accepts_outstanding);
      post_stop_if_done();
    }
  }
}

void stamp(connection* c) {
  InterlockedExchange(&c->step_started, static_cast<LONG>(GetTickCount()));
}

void post_recv(connection* c) {
  c->what = step::recv;
  std::memset(&c->ov, 0, sizeof c->ov);
  stamp(c);
  WSABUF b;
  b.len = buffer_size;
  b.buf = c->buffer;
  DWORD bytes = 0;
  DWORD flags = 0;
  // 0 (done at once) still queues its packet: only a failure ends here.
  if (WSARecv(c->s, &b, 1, &bytes, &flags, &c->ov, nullptr) == SOCKET_ERROR &&
      WSAGetLastError() != WSA_IO_PENDING) {
    end_connection(c);
  }
}

void post_send(connection* c) {
  c->what = step::send;
  std::memset(&c->ov, 0, sizeof c->ov);
  stamp(c);
  WSABUF b;
  b.len = c->length - c->sent;
  b.buf = c->buffer + c->sent;
  DWORD bytes = 0;
  if (WSASend(c->s, &b, 1, &bytes, 0, &c->ov, nullptr) == SOCKET_ERROR &&
      WSAGetLastError() != WSA_IO_PENDING) {
    end_connection(c);
  }
}

void on_accept(connection* c, BOOL ok, worker_totals& totals) {
  // A replacement first, so that several accepts stay pending.
  if (InterlockedCompareExchange(&stopping, 0, 0) == 0) post_accept();
  InterlockedDecrement(&accepts_outstanding);
  if (!ok || InterlockedCompareExchange(&stopping, 0, 0) != 0) {
    free_connection(c);  // the listener closed, or the client went before its accept
    post_stop_if_done();
    return;
  }
  setsockopt(c->s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<char*>(&listener),
             sizeof listener);
  if (CreateIoCompletionPort(as_handle(c->s), port, connection_key, 0) != port) {
    free_connection(c);
    return;
  }
  ++totals.accepted;
  link_open(c);
  post_recv(c);
}

void on_io(connection* c, BOOL ok, DWORD bytes, worker_totals& totals) {
  if (!ok) {
    end_connection(c);  // reset, aborted...
  } else if (c->what == step::recv) {
    if (bytes == 0) {
      end_connection(c);  // the client's orderly close
      return;
    }
    c->length = bytes;
    c->sent = 0;
    post_send(c);
  } else {
    totals.bytes += bytes;
    c->sent += bytes;
    if (c->sent < c->length) {
      post_send(c);
    } else {
      post_recv(c);
    }
  }
}

// Cancels every receive or send that has waited idle_timeout_ms. Should the
// step have completed just before, its successor may be the one cancelled:
// that connection ends as if it had timed out. A cancel that found nothing
// (the worker is between two steps) is tried again at the next check.
void cancel_idle() {
  const DWORD now = GetTickCount();
  EnterCriticalSection(&open_lock);
  for (connection* c = open_first; c != nullptr; c = c->next) {
    const auto started = static_cast<DWORD>(InterlockedCompareExchange(&c->step_started, 0, 0));
    if (now - started < idle_timeout_ms || InterlockedExchange(&c->timed_out, 1) != 0) continue;
    if (!CancelIoEx(as_handle(c->s), &c->ov)) InterlockedExchange(&c->timed_out, 0);
  }
  LeaveCriticalSection(&open_lock);
}

// Runs on a thread of its own (the console's, on Linux the layer's).
BOOL WINAPI on_console_event(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      WSASetEvent(stop_requested);
      return TRUE;
    default:
      return FALSE;
  }
}

DWORD WINAPI worker(LPVOID parameter) {
  worker_totals& totals = *static_cast<worker_totals*>(parameter);
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* ov = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE);
    if (ov == nullptr) return ok && key == stop_key ? 0 : 1;
    connection* c = CONTAINING_RECORD(ov, connection, ov);
    if (key == listener_key) {
      on_accept(c, ok, totals);
    } else {
      on_io(c, ok, bytes, totals);
    }
  }
}

// A decimal number up to `most`, the whole argument.
bool number(const char* text, unsigned long most, unsigned long& out) {
  char* end = nullptr;
  out = std::strtoul(text, &end, 10);
  return *text >= '0' && *text <= '9' && *end == '\0' && out <= most;
}

bool parse(int argc, char** argv, u_short& port_number) {
  for (int i = 1; i < argc; i += 2) {
    const bool has_value = i + 1 < argc;
    unsigned long value = 0;
    if (std::strcmp(argv[i], "--port") == 0 && has_value && number(argv[i + 1], 65535, value)) {
      port_number = static_cast<u_short>(value);
    } else if (std::strcmp(argv[i], "--connections") == 0 && has_value &&
               number(argv[i + 1], 0x7fffffff, value)) {
      stop_after = static_cast<LONG>(value);
    } else if (std::strcmp(argv[i], "--idle-timeout") == 0 && has_value &&
               number(argv[i + 1], 86400000, value) && value > 0) {
      idle_timeout_ms = static_cast<DWORD>(value);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--port 0-65535] [--connections N] [--idle-timeout 1-86400000]\n",
                   argv[0]);
      return false;
    }
  }
  return true;
}

int fail(const char* what) {
  std::fprintf(stderr, "%s failed: error %lu\n", what,
               static_cast<unsigned long>(WSAGetLastError()));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  u_short port_number = 7000;
  if (!parse(argc, argv, port_number)) return 2;
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return fail("WSAStartup");
  stop_requested = WSACreateEvent();
  if (stop_requested == WSA_INVALID_EVENT) return fail("WSACreateEvent");
  if (!SetConsoleCtrlHandler(on_console_event, TRUE)) return fail("SetConsoleCtrlHandler");
  InitializeCriticalSection(&open_lock);
  SYSTEM_INFO system;
  GetSystemInfo(&system);
  workers = 2 * system.dwNumberOfProcessors;
  if (workers > MAXIMUM_WAIT_OBJECTS) workers = MAXIMUM_WAIT_OBJECTS;

  port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  if (port == nullptr) return fail("CreateIoCompletionPort");
  listener = WSASocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
  if (listener == INVALID_SOCKET) return fail("WSASocket");
  sockaddr_in address;
  std::memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(port_number);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return fail("bind");
  }
  if (listen(listener, SOMAXCONN) != 0) return fail("listen");
  if (CreateIoCompletionPort(as_handle(listener), port, listener_key, 0) != port) {
    return fail("CreateIoCompletionPort(listener)");
  }
  GUID accept_ex_id = WSAID_ACCEPTEX;
  DWORD bytes = 0;
  if (WSAIoctl(listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &accept_ex_id, sizeof accept_ex_id,
               &accept_ex, sizeof accept_ex, &bytes, nullptr, nullptr) != 0) {
    return fail("WSAIoctl(AcceptEx)");
  }
  int length = sizeof address;
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return fail("getsockname");
  }
  std::printf("listening on 0.0.0.0:%u\n", static_cast<unsigned>(ntohs(address.sin_port)));
  std::fflush(stdout);

  for (int i = 0; i < accepts_pending; ++i) post_accept();
  HANDLE threads[MAXIMUM_WAIT_OBJECTS];
  worker_totals totals[MAXIMUM_WAIT_OBJECTS];
  for (DWORD i = 0; i < workers; ++i) {
    threads[i] = CreateThread(nullptr, 0, worker, &totals[i], 0, nullptr);
    if (threads[i] == nullptr) return fail("CreateThread");
  }
  while (WSAWaitForMultipleEvents(1, &stop_requested, TRUE, 1000, FALSE) == WSA_WAIT_TIMEOUT) {
    cancel_idle();
  }
  begin_stop();
  WaitForMultipleObjects(workers, threads, TRUE, INFINITE);

  worker_totals all;
  for (DWORD i = 0; i < workers; ++i) {
    all.accepted += totals[i].accepted;
    all.bytes += totals[i].bytes;
    CloseHandle(threads[i]);
  }
  std::printf("stats: connections_accepted=%llu bytes_echoed=%llu workers=%lu\n", all.accepted,
              all.bytes, static_cast<unsigned long>(workers));
  std::fflush(stdout);
  CloseHandle(port);
  SetConsoleCtrlHandler(on_console_event, FALSE);
  DeleteCriticalSection(&open_lock);
  WSACloseEvent(stop_requested);
  WSACleanup();
  return 0;
}
