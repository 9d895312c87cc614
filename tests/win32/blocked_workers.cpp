// Workers of a port of concurrency 1 that block. The Windows kernel counts a
// thread blocked in a wait as not running on its port and releases another
// one in its place ("I/O Completion Ports": the concurrency value limits the
// runnable threads). Here a worker waits for an event that only the packet
// queued behind its own sets, and one waits in GetOverlappedResult for a
// send whose packet another worker dequeues: both need the second worker to
// run while the first one is blocked. The main thread, which dequeued while
// connecting, blocks in Sleep and WaitForMultipleObjects the same way.
#include "scenario.h"

using namespace scenario;

namespace {

constexpr ULONG_PTR client_key = 2;
constexpr ULONG_PTR stop_key = 0;
constexpr ULONG_PTR wait_key = 10;  // wait for the event
constexpr ULONG_PTR set_key = 11;   // set it
constexpr ULONG_PTR send_key = 12;  // send, then GetOverlappedResult(bWait TRUE)

HANDLE port;
HANDLE event;
SOCKET client;
op send_op{"send"};
DWORD wait_result = 0;
LONG waited = 0;
BOOL send_result = FALSE;
DWORD send_bytes = 0;
LONG send_done = 0;
LONG send_packet_seen = 0;

DWORD WINAPI worker(LPVOID) {
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* ov = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE);
    if (!ok && ov == nullptr) return 1;
    switch (key) {
      case stop_key:
        return 0;
      case wait_key:
        wait_result = WaitForSingleObject(event, 10000);
        InterlockedExchange(&waited, 1);
        break;
      case set_key:
        SetEvent(event);
        break;
      case send_key: {
        WSABUF b = wsabuf(const_cast<char*>("ping"), 4);
        DWORD n = 0;
        send_op.reset();
        const bool started_ok = WSASend(client, &b, 1, &n, 0, &send_op.ov, nullptr) == 0 ||
                                WSAGetLastError() == WSA_IO_PENDING;
        send_result = started_ok && GetOverlappedResult(reinterpret_cast<HANDLE>(client),
                                                        &send_op.ov, &send_bytes, TRUE);
        InterlockedExchange(&send_done, 1);
        break;
      }
      case client_key:
        if (ov == &send_op.ov) InterlockedExchange(&send_packet_seen, 1);
        break;
      default:
        break;
    }
  }
}

// Polls `flag` (Sleep blocks this thread too) for up to 10 s.
bool wait_for_flag(const LONG& flag) {
  for (int i = 0; i < 1000; ++i) {
    if (InterlockedCompareExchange(const_cast<LONG*>(&flag), 0, 0) != 0) return true;
    Sleep(10);
  }
  return false;
}

}  // namespace

int main() {
  WSADATA data;
  if (WSAStartup(MAKEWORD(2, 2), &data) != 0) fail("WSAStartup");
  port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (port == nullptr) fail("CreateIoCompletionPort");
  SOCKET listener = listen_on_loopback(port, 1);
  const extensions x = load_extensions(listener);
  SOCKET server = INVALID_SOCKET;
  op accept_op{"accept"};
  op connect_op{"connect"};
  connect_pair(port, listener, x, 3, client_key, server, client, accept_op, connect_op);
  event = CreateEvent(nullptr, FALSE, FALSE, nullptr);
  if (event == nullptr) fail("CreateEvent");

  HANDLE threads[2];
  for (int i = 0; i < 2; ++i) {
    threads[i] = CreateThread(nullptr, 0, worker, nullptr, 0, nullptr);
    if (threads[i] == nullptr) fail("CreateThread");
  }
  if (!PostQueuedCompletionStatus(port, 0, wait_key, nullptr)) fail("post wait");
  if (!PostQueuedCompletionStatus(port, 0, set_key, nullptr)) fail("post set");
  const bool phase_one = wait_for_flag(waited);
  std::printf("concurrency 1: WaitForSingleObject(the event the packet behind sets) = %lu%s\n",
              static_cast<unsigned long>(wait_result), phase_one ? "" : " (never returned)");

  if (!PostQueuedCompletionStatus(port, 0, send_key, nullptr)) fail("post send");
  const bool phase_two = wait_for_flag(send_done);
  std::printf("GetOverlappedResult(WSASend, bWait TRUE): %s bytes=%lu%s\n",
              send_result ? "TRUE" : "FALSE", static_cast<unsigned long>(send_bytes),
              phase_two ? "" : " (never returned)");
  // Here the other worker dequeued it (the result is written then); on
  // Windows either worker may, once GetOverlappedResult has returned.
  std::printf("its packet dequeued: %d\n", wait_for_flag(send_packet_seen) ? 1 : 0);
  char buf[8] = {};
  op recv_op{"recv"};
  recv_into(server, buf, sizeof buf, recv_op);
  DWORD n = 0;
  std::printf("the server's recv: %s\n",
              GetOverlappedResult(reinterpret_cast<HANDLE>(server), &recv_op.ov, &n, TRUE) &&
                      n == 4 && std::memcmp(buf, "ping", 4) == 0
                  ? "ping"
                  : "wrong");

  for (int i = 0; i < 2; ++i) {
    if (!PostQueuedCompletionStatus(port, 0, stop_key, nullptr)) fail("stop packet");
  }
  wait_many("both workers, all", 2, threads, TRUE, 10000);
  CloseHandle(threads[0]);
  CloseHandle(threads[1]);
  CloseHandle(event);
  closesocket(server);
  closesocket(client);
  closesocket(listener);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
