// A Win32 source as a legacy server is written, built against proact::win32
// where the package has it (Linux): the compat headers come through the
// target, and a packet goes through a completion port. Exit status 0 when it
// did, 1 otherwise.
#include <windows.h>

#include <cstdio>

int main() {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  if (port == nullptr) {
    std::fprintf(stderr, "consumer_win32: CreateIoCompletionPort: error %lu\n",
                 static_cast<unsigned long>(GetLastError()));
    return 1;
  }
  OVERLAPPED ov = {};
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  OVERLAPPED* got = nullptr;
  const bool ok = PostQueuedCompletionStatus(port, 5, 7, &ov) &&
                  GetQueuedCompletionStatus(port, &bytes, &key, &got, 1000) && bytes == 5 &&
                  key == 7 && got == &ov;
  CloseHandle(port);
  std::puts(ok ? "consumer_win32: a packet through the port" : "consumer_win32: wrong packet");
  return ok ? 0 : 1;
}
