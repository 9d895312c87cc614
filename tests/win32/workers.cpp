// The classic worker pool: 2 x processors threads (CreateThread) in
// GetQueuedCompletionStatus, work posted to the port, per-item records from
// HeapAlloc, shared totals under a CRITICAL_SECTION and Interlocked counts,
// one stop packet per worker, WaitForMultipleObjects on the thread handles.
#include "scenario.h"

using namespace scenario;

namespace {

constexpr ULONG_PTR work_key = 1;
constexpr ULONG_PTR stop_key = 0;
constexpr int items = 200;

struct item {
  OVERLAPPED ov;  // first, as the seeds' per-I/O records
  LONG value;
};

HANDLE port;
CRITICAL_SECTION totals_lock;
LONGLONG sum = 0;
LONG processed = 0;
LONG stopped = 0;

DWORD WINAPI worker(LPVOID) {
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* ov = nullptr;
    if (!GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE)) return 1;
    if (key == stop_key) {
      InterlockedIncrement(&stopped);
      return 7;
    }
    item* it = reinterpret_cast<item*>(ov);
    EnterCriticalSection(&totals_lock);
    EnterCriticalSection(&totals_lock);  // a critical section may be entered again by its owner
    sum += it->value + static_cast<LONG>(bytes);
    LeaveCriticalSection(&totals_lock);
    LeaveCriticalSection(&totals_lock);
    InterlockedIncrement(&processed);
    HeapFree(GetProcessHeap(), 0, it);
  }
}

}  // namespace

int main() {
  port = open_port();
  InitializeCriticalSection(&totals_lock);
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  const DWORD count = info.dwNumberOfProcessors * 2 > MAXIMUM_WAIT_OBJECTS
                          ? MAXIMUM_WAIT_OBJECTS
                          : info.dwNumberOfProcessors * 2;
  std::printf("GetSystemInfo: at least one processor=%d page size set=%d\n",
              info.dwNumberOfProcessors >= 1 ? 1 : 0, info.dwPageSize > 0 ? 1 : 0);
  HANDLE threads[MAXIMUM_WAIT_OBJECTS];
  for (DWORD i = 0; i < count; ++i) {
    DWORD id = 0;
    threads[i] = CreateThread(nullptr, 0, worker, nullptr, 0, &id);
    if (threads[i] == nullptr) fail("CreateThread");
  }
  std::printf("WaitForSingleObject(a worker, 50 ms) = %lu\n",
              static_cast<unsigned long>(WaitForSingleObject(threads[0], 50)));
  DWORD code = 0;
  result("GetExitCodeThread (running)", GetExitCodeThread(threads[0], &code));
  std::printf("exit code while running = %lu\n", static_cast<unsigned long>(code));

  for (int i = 0; i < items; ++i) {
    auto* it = static_cast<item*>(HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(item)));
    if (it == nullptr) fail("HeapAlloc");
    it->value = i;
    if (!PostQueuedCompletionStatus(port, 1, work_key, &it->ov)) fail("PostQueuedCompletionStatus");
  }
  for (DWORD i = 0; i < count; ++i) {
    if (!PostQueuedCompletionStatus(port, 0, stop_key, nullptr)) fail("stop packet");
  }
  std::printf("WaitForMultipleObjects(all workers, all) = %lu\n",
              static_cast<unsigned long>(WaitForMultipleObjects(count, threads, TRUE, 10000)));
  std::printf("processed=%ld sum=%lld stopped workers = 2 x processors: %d\n",
              static_cast<long>(processed), static_cast<long long>(sum),
              stopped == static_cast<LONG>(count) ? 1 : 0);
  bool all_seven = true;
  for (DWORD i = 0; i < count; ++i) {
    DWORD c = 0;
    all_seven = all_seven && GetExitCodeThread(threads[i], &c) && c == 7;
    CloseHandle(threads[i]);
  }
  std::printf("every exit code 7: %d\n", all_seven ? 1 : 0);
  LONG v = 5;
  const LONG was = InterlockedCompareExchange(&v, 9, 5);
  const LONG after_exchange = v;
  const LONG before_add = InterlockedExchangeAdd(&v, 3);
  std::printf("InterlockedCompareExchange: %ld then %ld, InterlockedExchangeAdd: %ld then %ld\n",
              static_cast<long>(was), static_cast<long>(after_exchange),
              static_cast<long>(before_add), static_cast<long>(v));
  result("TryEnterCriticalSection", TryEnterCriticalSection(&totals_lock));
  LeaveCriticalSection(&totals_lock);
  DeleteCriticalSection(&totals_lock);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
