// closesocket with operations pending: recvs and a send-side recv on a
// connected socket, an AcceptEx on a listener. Windows documents that
// closesocket cancels them (closesocket, WSPCloseSocket: they fail with
// WSA_OPERATION_ABORTED); each still gets its one packet. The peer of the
// closed socket sees the connection end.
#include "scenario.h"

using namespace scenario;

namespace {

// What the packet and the OVERLAPPED of an operation ended by closesocket
// say. Wine completes a recv with STATUS_HANDLES_CLOSED (docs/iocp.md): the
// Windows build prints Windows' documented values there and names the
// difference.
void print_closed(const packet& p, const OVERLAPPED& ov) {
  DWORD error = p.error;
  unsigned long status = static_cast<unsigned long>(ov.Internal);
  if (under_wine() && status != 0xC0000120UL && !p.ok) {
    wine_difference("closesocket with operations pending",
                    "Wine completes a recv with STATUS_HANDLES_CLOSED (0x8000000a, error 676)");
    error = ERROR_OPERATION_ABORTED;
    status = 0xC0000120UL;
  }
  std::printf("  %s key=%llu ov=%s bytes=%lu error=%lu Internal=0x%08lx\n",
              p.ok ? "TRUE " : "FALSE", static_cast<unsigned long long>(p.key), name_of(p.ov),
              static_cast<unsigned long>(p.bytes), static_cast<unsigned long>(error), status);
}

// n packets of operations ended by a closesocket, sorted by name.
void dequeue_closed(HANDLE port, int n, const char* label) {
  std::vector<packet> got;
  for (int i = 0; i < n; ++i) {
    packet p = dequeue(port, 10000);
    if (p.ov == nullptr) fail("dequeue_closed: no packet");
    got.push_back(p);
  }
  std::sort(got.begin(), got.end(), [](const packet& a, const packet& b) {
    return std::strcmp(name_of(a.ov), name_of(b.ov)) < 0;
  });
  std::printf("GetQueuedCompletionStatus x%d (%s):\n", n, label);
  for (const packet& p : got) print_closed(p, *p.ov);
}

}  // namespace

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;

  // Two recvs pending on the server side, then closesocket.
  char a[8], b[8];
  op recv_a("recv_a"), recv_b("recv_b");
  recv_into(server, a, sizeof a, recv_a);
  recv_into(server, b, sizeof b, recv_b);
  std::printf("closesocket(server): %d\n", closesocket(server));
  dequeue_closed(port, 2, "recvs of the closed socket");
  std::printf("HasOverlappedIoCompleted: recv_a=%d recv_b=%d\n",
              HasOverlappedIoCompleted(&recv_a.ov) ? 1 : 0,
              HasOverlappedIoCompleted(&recv_b.ov) ? 1 : 0);
  server = INVALID_SOCKET;

  // The peer: its recv sees the connection end (0 bytes: the closed
  // socket had read everything, so its close is orderly).
  char c[8];
  op recv_c("recv_c");
  recv_into(client, c, sizeof c, recv_c);
  dequeue_one(port, "the peer's recv");

  // An AcceptEx pending on the listener, then closesocket of the listener.
  op accept_x("accept_x");
  SOCKET spare = accept_pending(listener, x, accept_x);
  std::printf("closesocket(listener): %d\n", closesocket(listener));
  dequeue_closed(port, 1, "the accept of the closed listener");
  listener = new_socket();  // end() closes it

  // Nothing else comes.
  dequeue_one(port, "nothing more", 200);

  closesocket(spare);
  end(s);
  return 0;
}
