// PostQueuedCompletionStatus (delivered verbatim, FIFO),
// GetQueuedCompletionStatusEx batches, timeouts, and closing the port.
#include <thread>

#include "scenario.h"

using namespace scenario;

namespace {

void dequeue_many(HANDLE port, ULONG count, DWORD ms, const char* label) {
  OVERLAPPED_ENTRY entries[8];
  ULONG removed = 99;
  SetLastError(0);
  const BOOL ok = GetQueuedCompletionStatusEx(port, entries, count, &removed, ms, FALSE);
  // The count removed is printed only on success: on a timeout Windows'
  // documentation says nothing of it (Wine writes 1, this layer 0).
  std::printf("GetQueuedCompletionStatusEx (%s, up to %lu): %s removed=%lu error=%lu\n", label,
              static_cast<unsigned long>(count), ok ? "TRUE" : "FALSE",
              static_cast<unsigned long>(ok ? removed : 0),
              static_cast<unsigned long>(ok ? 0 : GetLastError()));
  for (ULONG i = 0; ok && i < removed; ++i) {
    std::printf("  key=%llu ov=%s bytes=%lu\n",
                static_cast<unsigned long long>(entries[i].lpCompletionKey),
                name_of(entries[i].lpOverlapped),
                static_cast<unsigned long>(entries[i].dwNumberOfBytesTransferred));
  }
}

void post(HANDLE port, DWORD bytes, ULONG_PTR key, op* o) {
  std::printf("PostQueuedCompletionStatus(bytes=%lu key=%llu ov=%s): %s\n",
              static_cast<unsigned long>(bytes), static_cast<unsigned long long>(key),
              o == nullptr ? "NULL" : o->name,
              PostQueuedCompletionStatus(port, bytes, key, o == nullptr ? nullptr : &o->ov)
                  ? "TRUE"
                  : "FALSE");
}

}  // namespace

int main() {
  HANDLE port = open_port();
  std::printf("GetQueuedCompletionStatus (poll, empty):\n");
  print(dequeue(port, 0));
  std::printf("GetQueuedCompletionStatus (30 ms, empty):\n");
  print(dequeue(port, 30));
  dequeue_many(port, 8, 0, "poll, empty");

  op post_a("post_a"), post_b("post_b"), post_c("post_c"), post_d("post_d");
  post(port, 1, 7, &post_a);
  post(port, 2, 7, &post_b);
  post(port, 3, 8, nullptr);
  post(port, 0xFFFFFFFFu, ~ULONG_PTR{0}, &post_c);
  dequeue_many(port, 8, INFINITE, "four posted");

  post(port, 10, 9, &post_a);
  post(port, 20, 9, &post_b);
  post(port, 30, 9, &post_c);
  dequeue_many(port, 1, INFINITE, "one of three");
  dequeue_many(port, 8, 1000, "the other two");
  dequeue_one(port, "nothing left, 10 ms", 10);

  // A posted packet does not touch its OVERLAPPED.
  post_d.ov.Internal = 0x1234;
  post_d.ov.InternalHigh = 0x5678;
  post(port, 5, 1, &post_d);
  dequeue_one(port, "posted post_d");
  std::printf("post_d Internal=0x%lx InternalHigh=0x%lx\n",
              static_cast<unsigned long>(post_d.ov.Internal),
              static_cast<unsigned long>(post_d.ov.InternalHigh));

  // Closing the port fails the thread waiting on it.
  if (under_wine()) {
    result("CloseHandle(port)", CloseHandle(port));
    std::printf("waiter on the closed port:\n  FALSE key=0 ov=NULL bytes=0 error=%lu\n",
                static_cast<unsigned long>(ERROR_ABANDONED_WAIT_0));
    wine_difference("closing a port with a waiter", "Wine leaves the waiter blocked");
  } else {
    packet waited;
    std::thread waiter([&] { waited = dequeue(port, INFINITE); });
    Sleep(100);
    result("CloseHandle(port)", CloseHandle(port));
    waiter.join();
    std::printf("waiter on the closed port:\n");
    print(waited);
  }
  std::printf("GetQueuedCompletionStatus on the closed handle:\n");
  print(dequeue(port, 0));
  std::printf("PostQueuedCompletionStatus on the closed handle: %s error=%lu\n",
              PostQueuedCompletionStatus(port, 0, 0, nullptr) ? "TRUE" : "FALSE",
              static_cast<unsigned long>(GetLastError()));
  WSACleanup();
  return 0;
}
