// CancelIoEx of one operation and of all, CancelIo, and what an OVERLAPPED
// says meanwhile (HasOverlappedIoCompleted, GetOverlappedResult, Internal).
#include "scenario.h"

using namespace scenario;

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;
  HANDLE hserver = reinterpret_cast<HANDLE>(server);

  char a[8], b[8], c[8];
  op recv_a("recv_a"), recv_b("recv_b"), recv_c("recv_c");
  recv_into(server, a, sizeof a, recv_a);
  recv_into(server, b, sizeof b, recv_b);
  recv_into(server, c, sizeof c, recv_c);

  // One.
  result("CancelIoEx(server, recv_b)", CancelIoEx(hserver, &recv_b.ov));
  dequeue_one(port, "the cancelled one");
  std::printf("recv_b Internal=0x%08lx\n", static_cast<unsigned long>(recv_b.ov.Internal));
  result("CancelIoEx(server, recv_b) again", CancelIoEx(hserver, &recv_b.ov));
  std::printf("HasOverlappedIoCompleted: recv_a=%d recv_b=%d\n",
              HasOverlappedIoCompleted(&recv_a.ov) ? 1 : 0,
              HasOverlappedIoCompleted(&recv_b.ov) ? 1 : 0);
  DWORD n = 0;
  result("GetOverlappedResult(recv_a, no wait)",
         GetOverlappedResult(hserver, &recv_a.ov, &n, FALSE));
  result("GetOverlappedResult(recv_b, no wait)",
         GetOverlappedResult(hserver, &recv_b.ov, &n, FALSE));

  // All (Windows promises no order among them).
  result("CancelIoEx(server, NULL)", CancelIoEx(hserver, nullptr));
  dequeue_group(port, 2, "the rest, cancelled");

  // Nothing left to cancel.
  const BOOL none = CancelIoEx(hserver, nullptr);
  const DWORD none_error = none ? 0 : GetLastError();
  if (none && under_wine()) {
    std::printf("CancelIoEx(server, NULL) with nothing pending: FALSE error=%lu\n",
                static_cast<unsigned long>(ERROR_NOT_FOUND));
    wine_difference("CancelIoEx(h, NULL) with nothing pending", "Wine returns TRUE");
  } else {
    std::printf("CancelIoEx(server, NULL) with nothing pending: %s error=%lu\n",
                none ? "TRUE" : "FALSE", static_cast<unsigned long>(none_error));
  }
  result("CancelIo(server) with nothing pending", CancelIo(hserver));

  // A pending AcceptEx.
  op accept_x("accept_x");
  SOCKET spare = accept_pending(listener, x, accept_x);
  result("CancelIoEx(listener, accept_x)",
         CancelIoEx(reinterpret_cast<HANDLE>(listener), &accept_x.ov));
  dequeue_one(port, "the cancelled accept");

  // CancelIo cancels a pending recv too.
  op recv_d("recv_d");
  recv_into(server, a, sizeof a, recv_d);
  result("CancelIo(server)", CancelIo(hserver));
  dequeue_one(port, "cancelled by CancelIo");

  // The connection still works.
  op recv_e("recv_e"), send_e("send_e");
  exchange(port, server, client, a, sizeof a, "after", recv_e, send_e, "after the cancels");

  closesocket(spare);
  end(s);
  return 0;
}
