// Overlapped files: WriteFile and ReadFile at OVERLAPPED offsets, through
// the port; GetFileSizeEx; reads at and past the end (ERROR_HANDLE_EOF,
// whether the call reports it or its packet does); a write past the end.
#include "scenario.h"

using namespace scenario;

namespace {

// Per process: runs on several backends may overlap.
char path[64];

void at(op& o, DWORD offset) {
  o.reset();
  o.ov.Offset = offset;
  o.ov.OffsetHigh = 0;
}

// Windows may finish a file request in the call (ERROR_HANDLE_EOF at once,
// or success with the packet still queued) or later; the outcome is what is
// printed: the packet if one comes, else the call's error.
void outcome(HANDLE port, const char* call, op& o, BOOL ok) {
  const DWORD e = ok ? 0 : GetLastError();
  packet p;
  if (ok || e == ERROR_IO_PENDING) {
    p = dequeue(port, 10000);
    if (p.ov != &o.ov || p.key != 4) fail("a file packet with another OVERLAPPED or key");
  } else {
    p.error = e;
  }
  std::printf("%s %s: %s bytes=%lu error=%lu\n", call, o.name, p.ok ? "TRUE" : "FALSE",
              static_cast<unsigned long>(p.bytes), static_cast<unsigned long>(p.error));
}

}  // namespace

int main() {
  std::snprintf(path, sizeof path, "proact_win32_files_%lu.tmp",
                static_cast<unsigned long>(GetCurrentProcessId()));
  HANDLE port = open_port();
  HANDLE f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, nullptr);
  if (f == INVALID_HANDLE_VALUE) fail("CreateFileA");
  if (CreateIoCompletionPort(f, port, 4, 0) != port) fail("CreateIoCompletionPort(file)");

  char hello[] = "hello ";
  char world[] = "world";
  op write_1("write_1"), write_2("write_2");
  at(write_1, 0);
  at(write_2, 6);
  DWORD n = 0;
  const BOOL ok_1 = WriteFile(f, hello, 6, &n, &write_1.ov);
  const BOOL ok_2 = WriteFile(f, world, 5, &n, &write_2.ov);
  std::printf("WriteFile write_1, write_2 started: %d %d\n",
              ok_1 || GetLastError() == ERROR_IO_PENDING ? 1 : 0,
              ok_2 || GetLastError() == ERROR_IO_PENDING ? 1 : 0);
  dequeue_group(port, 2, "two writes at their offsets");
  LARGE_INTEGER size;
  result("GetFileSizeEx", GetFileSizeEx(f, &size));
  std::printf("size=%lld\n", static_cast<long long>(size.QuadPart));

  char buf[16];
  op read_1("read_1"), read_2("read_2"), read_3("read_3"), read_4("read_4");
  at(read_1, 6);
  outcome(port, "ReadFile (offset 6, 16 bytes)", read_1,
          ReadFile(f, buf, sizeof buf, &n, &read_1.ov));
  std::printf("read_1 data=\"%.5s\"\n", buf);
  at(read_2, 11);
  outcome(port, "ReadFile (at the end)", read_2, ReadFile(f, buf, sizeof buf, &n, &read_2.ov));
  at(read_3, 100);
  outcome(port, "ReadFile (past the end)", read_3, ReadFile(f, buf, sizeof buf, &n, &read_3.ov));
  at(read_4, 0);
  outcome(port, "ReadFile (whole file)", read_4, ReadFile(f, buf, sizeof buf, &n, &read_4.ov));
  std::printf("read_4 data=\"%.11s\"\n", buf);

  // Past the end: the gap reads as zeros.
  char x[] = "x";
  op write_3("write_3"), read_5("read_5");
  at(write_3, 20);
  outcome(port, "WriteFile (offset 20)", write_3, WriteFile(f, x, 1, &n, &write_3.ov));
  result("GetFileSizeEx", GetFileSizeEx(f, &size));
  std::printf("size=%lld\n", static_cast<long long>(size.QuadPart));
  char gap[16];
  std::memset(gap, 'g', sizeof gap);
  at(read_5, 11);
  outcome(port, "ReadFile (offset 11, 16 bytes)", read_5,
          ReadFile(f, gap, sizeof gap, &n, &read_5.ov));
  int zeros = 0;
  for (int i = 0; i < 9; ++i) zeros += gap[i] == 0 ? 1 : 0;
  std::printf("read_5: zeros=%d last=%c\n", zeros, gap[9]);

  result("CloseHandle(file)", CloseHandle(f));
  result("DeleteFileA", DeleteFileA(path));
  HANDLE gone =
      CreateFileA(path, GENERIC_READ, 0, nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  std::printf("CreateFileA(OPEN_EXISTING, deleted): %s error=%lu\n",
              gone == INVALID_HANDLE_VALUE ? "INVALID_HANDLE_VALUE" : "a handle",
              static_cast<unsigned long>(GetLastError()));
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
