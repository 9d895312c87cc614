// SetFileCompletionNotificationModes(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS):
// an operation that completes in its call returns success at once and
// queues no packet; one that goes pending completes through the port.
#include "scenario.h"

using namespace scenario;

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;

  result("SetFileCompletionNotificationModes(server, SKIP_COMPLETION_PORT_ON_SUCCESS)",
         SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(server),
                                            FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));

  // Data already waiting: the recv completes in the call.
  op send_1("send_1");
  send_from(client, "abc", send_1);
  dequeue_one(port, "the client's send (its socket queues packets)");
  Sleep(100);
  char buf[16];
  WSABUF b = wsabuf(buf, sizeof buf);
  DWORD flags = 0;
  DWORD bytes = 0;
  op recv_1("recv_1");
  const int rc = WSARecv(server, &b, 1, &bytes, &flags, &recv_1.ov, nullptr);
  std::printf(
      "WSARecv recv_1 (data waiting): rc=%d bytes=%lu data=\"%.*s\" HasOverlappedIoCompleted=%d\n",
      rc, static_cast<unsigned long>(bytes), rc == 0 ? static_cast<int>(bytes) : 0, buf,
      HasOverlappedIoCompleted(&recv_1.ov) ? 1 : 0);
  std::printf("GetQueuedCompletionStatus (100 ms, no packet for recv_1):\n");
  print(dequeue(port, 100));

  // Nothing waiting: pending, then through the port.
  op recv_2("recv_2"), send_2("send_2");
  exchange(port, server, client, buf, sizeof buf, "de", recv_2, send_2,
           "a pending recv in skip mode");

  // A send that fits the socket buffer completes in the call.
  char xyz[] = "xyz";
  WSABUF out = wsabuf(xyz, 3);
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

  end(s);
  return 0;
}
