// Zero-byte WSARecv (completes with 0 bytes once data is there, and takes
// none), the peer's orderly close (a recv completes with 0 bytes and
// success) and its reset (ERROR_NETNAME_DELETED from the port,
// WSAECONNRESET from WSAGetOverlappedResult).
#include "scenario.h"

using namespace scenario;

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;

  // A zero-byte recv waits for data.
  char none[1];
  op zero_1("zero_1");
  recv_into(server, none, 0, zero_1);
  std::printf("GetQueuedCompletionStatus (100 ms, nothing sent):\n");
  print(dequeue(port, 100));
  std::printf("HasOverlappedIoCompleted(zero_1)=%d\n",
              HasOverlappedIoCompleted(&zero_1.ov) ? 1 : 0);
  op send_1("send_1");
  send_from(client, "abc", send_1);
  dequeue_group(port, 2, "data arrives");
  // It took nothing: a recv now gets all three bytes.
  char buf[16];
  op recv_1("recv_1");
  recv_into(server, buf, sizeof buf, recv_1);
  dequeue_one(port, "the data is still there");
  print_received(server, recv_1, buf);

  // Orderly close: 0 bytes, success; again for a zero-byte recv.
  result("shutdown(client, SD_SEND) == 0", shutdown(client, SD_SEND) == 0);
  op recv_2("recv_2"), zero_2("zero_2");
  recv_into(server, buf, sizeof buf, recv_2);
  dequeue_one(port, "after the peer's FIN");
  recv_into(server, none, 0, zero_2);
  dequeue_one(port, "zero-byte recv after the FIN");
  closesocket(server);
  closesocket(client);
  server = client = INVALID_SOCKET;

  // Reset: linger on with 0 seconds, then close.
  SOCKET server_r = INVALID_SOCKET;
  SOCKET client_r = INVALID_SOCKET;
  op accept_r("accept_r"), connect_r("connect_r");
  connect_pair(port, listener, x, 5, 4, server_r, client_r, accept_r, connect_r);
  op recv_r("recv_r");
  recv_into(server_r, buf, sizeof buf, recv_r);
  LINGER abort_close;
  abort_close.l_onoff = 1;
  abort_close.l_linger = 0;
  result("setsockopt(SO_LINGER 1, 0) == 0",
         setsockopt(client_r, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&abort_close),
                    sizeof abort_close) == 0);
  closesocket(client_r);
  dequeue_one(port, "the peer reset");
  DWORD n = 0;
  DWORD flags = 0;
  const BOOL wsa_ok = WSAGetOverlappedResult(server_r, &recv_r.ov, &n, FALSE, &flags);
  std::printf("WSAGetOverlappedResult(recv_r): %s WSAGetLastError=%d\n", wsa_ok ? "TRUE" : "FALSE",
              wsa_ok ? 0 : WSAGetLastError());
  result("GetOverlappedResult(recv_r)",
         GetOverlappedResult(reinterpret_cast<HANDLE>(server_r), &recv_r.ov, &n, FALSE));
  std::printf("recv_r Internal=0x%08lx\n", static_cast<unsigned long>(recv_r.ov.Internal));
  closesocket(server_r);

  end(s);
  return 0;
}
