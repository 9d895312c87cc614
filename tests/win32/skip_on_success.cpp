// SetFileCompletionNotificationModes(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS):
// an operation that completes in its call returns success at once and
// queues no packet; one that goes pending completes through the port.
#include "scenario.h"

using namespace scenario;

int main() {
  HANDLE port = open_port();
  SOCKET listener = listen_on_loopback(port, 1);
  const extensions x = load_extensions(listener);
  SOCKET server = INVALID_SOCKET;
  SOCKET client = INVALID_SOCKET;
  op accept_a("accept_a"), connect_a("connect_a");
  connect_pair(port, listener, x, 3, 2, server, client, accept_a, connect_a);

  result("SetFileCompletionNotificationModes(server, SKIP_COMPLETION_PORT_ON_SUCCESS)",
         SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(server),
                                            FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));

  // Data already waiting: the recv completes in the call.
  op send_1("send_1");
  send_from(client, "abc", send_1);
  dequeue_one(port, "the client's send (its socket queues packets)");
  Sleep(100);
  char buf[16];
  WSABUF b;
  b.len = sizeof buf;
  b.buf = buf;
  DWORD flags = 0;
  DWORD bytes = 0;
  op recv_1("recv_1");
  const int rc = WSARecv(server, &b, 1, &bytes, &flags, &recv_1.ov, nullptr);
  std::printf("WSARecv recv_1 (data waiting): rc=%d bytes=%lu data=\"%.*s\" HasOverlappedIoCompleted=%d\n",
              rc, static_cast<unsigned long>(bytes), rc == 0 ? static_cast<int>(bytes) : 0, buf,
              HasOverlappedIoCompleted(&recv_1.ov) ? 1 : 0);
  std::printf("GetQueuedCompletionStatus (100 ms, no packet for recv_1):\n");
  print(dequeue(port, 100));

  // Nothing waiting: pending, then through the port.
  op recv_2("recv_2"), send_2("send_2");
  recv_into(server, buf, sizeof buf, recv_2);
  send_from(client, "de", send_2);
  dequeue_group(port, 2, "a pending recv in skip mode");
  print_received(server, recv_2, buf);

  // A send that fits the socket buffer completes in the call.
  char xyz[] = "xyz";
  WSABUF out;
  out.len = 3;
  out.buf = xyz;
  op send_3("send_3");
  bytes = 0;
  const int sent = WSASend(server, &out, 1, &bytes, 0, &send_3.ov, nullptr);
  std::printf("WSASend send_3: rc=%d bytes=%lu\n", sent, static_cast<unsigned long>(bytes));
  std::printf("GetQueuedCompletionStatus (100 ms, no packet for send_3):\n");
  print(dequeue(port, 100));
  op recv_3("recv_3");
  char got[16];
  recv_into(client, got, sizeof got, recv_3);
  dequeue_one(port, "the client receives it");
  print_received(client, recv_3, got);

  // The peer's FIN already there: the recv completes in the call with 0 bytes.
  result("shutdown(client, SD_SEND) == 0", shutdown(client, SD_SEND) == 0);
  Sleep(100);
  op recv_4("recv_4");
  bytes = 99;
  const int at_end = WSARecv(server, &b, 1, &bytes, &flags, &recv_4.ov, nullptr);
  std::printf("WSARecv recv_4 (after the FIN): rc=%d bytes=%lu\n", at_end,
              static_cast<unsigned long>(bytes));
  std::printf("GetQueuedCompletionStatus (100 ms):\n");
  print(dequeue(port, 100));

  closesocket(server);
  closesocket(client);
  closesocket(listener);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
