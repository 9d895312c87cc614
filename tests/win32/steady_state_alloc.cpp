// The layer allocates nothing per operation: after a warm-up, rounds of
// WSARecv + WSASend + PostQueuedCompletionStatus and their dequeues make no
// heap allocation (global operator new counted). Linux only: it checks the
// layer, not Windows.
#include <atomic>
#include <cstdlib>
#include <new>

#include "scenario.h"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

using namespace scenario;

namespace {

// One round: a recv and a send on the pair, a posted packet; all dequeued.
void round_trip(HANDLE port, SOCKET server, SOCKET client, op& recv_op, op& send_op, op& post_op) {
  char buf[64];
  WSABUF in = wsabuf(buf, sizeof buf);
  DWORD flags = 0;
  DWORD bytes = 0;
  recv_op.reset();
  if (WSARecv(server, &in, 1, &bytes, &flags, &recv_op.ov, nullptr) != 0 &&
      WSAGetLastError() != WSA_IO_PENDING) {
    fail("WSARecv");
  }
  char text[] = "0123456789";
  WSABUF out = wsabuf(text, 10);
  send_op.reset();
  if (WSASend(client, &out, 1, &bytes, 0, &send_op.ov, nullptr) != 0 &&
      WSAGetLastError() != WSA_IO_PENDING) {
    fail("WSASend");
  }
  if (!PostQueuedCompletionStatus(port, 1, 9, &post_op.ov)) fail("PostQueuedCompletionStatus");
  for (int i = 0; i < 3; ++i) {
    const packet p = dequeue(port, 10000);
    if (!p.ok) fail("dequeue");
  }
}

}  // namespace

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;
  op recv_op("recv"), send_op("send"), post_op("post");

  for (int i = 0; i < 100; ++i) round_trip(port, server, client, recv_op, send_op, post_op);
  const long warm_up = allocations.load();
  const long before = warm_up;
  constexpr int rounds = 1000;
  for (int i = 0; i < rounds; ++i) round_trip(port, server, client, recv_op, send_op, post_op);
  const long made = allocations.load() - before;
  std::printf(
      "allocations: %ld while setting up and warming up, %ld in %d rounds (recv + send "
      "+ post, 3 dequeues each)\n",
      warm_up, made, rounds);
  end(s);
  return made == 0 ? 0 : 1;
}
