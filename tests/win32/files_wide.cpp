// CreateFileW and DeleteFileW with a name beyond ASCII (é, 中, and U+1F600,
// a surrogate pair in Windows' UTF-16): created, written through the port,
// opened again by the same name, refused by CREATE_NEW once it exists,
// deleted, then not found.
#include "scenario.h"

using namespace scenario;

namespace {

WCHAR name[64];

void make_name() {
  const WCHAR prefix[] = L"proact_win32_wide_\u00e9\u4e2d\U0001F600_";
  std::size_t n = 0;
  for (; prefix[n] != 0; ++n) name[n] = prefix[n];
  char digits[16];
  const int count = std::snprintf(digits, sizeof digits, "%lu",
                                  static_cast<unsigned long>(GetCurrentProcessId()));
  for (int i = 0; i < count; ++i) name[n++] = static_cast<WCHAR>(digits[i]);
  const WCHAR suffix[] = L".tmp";
  for (std::size_t i = 0; suffix[i] != 0; ++i) name[n++] = suffix[i];
  name[n] = 0;
}

HANDLE open_wide(DWORD disposition) {
  return CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, nullptr, disposition,
                     FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, nullptr);
}

}  // namespace

int main() {
  make_name();
  HANDLE port = open_port();

  HANDLE f = open_wide(CREATE_NEW);
  result("CreateFileW (CREATE_NEW)", f != INVALID_HANDLE_VALUE);
  if (f == INVALID_HANDLE_VALUE) return 1;
  if (CreateIoCompletionPort(f, port, 5, 0) != port) fail("CreateIoCompletionPort(file)");
  op write_1("write_1");
  DWORD n = 0;
  char data[] = "wide!";
  if (!WriteFile(f, data, 5, &n, &write_1.ov) && GetLastError() != ERROR_IO_PENDING) {
    fail("WriteFile");
  }
  dequeue_one(port, "5 bytes written");
  result("CloseHandle(file)", CloseHandle(f));

  f = open_wide(OPEN_EXISTING);
  result("CreateFileW (OPEN_EXISTING)", f != INVALID_HANDLE_VALUE);
  LARGE_INTEGER size;
  size.QuadPart = 0;
  const BOOL sized = GetFileSizeEx(f, &size);
  std::printf("GetFileSizeEx: %s size=%lld\n", sized ? "TRUE" : "FALSE",
              static_cast<long long>(size.QuadPart));
  result("CloseHandle(file)", CloseHandle(f));

  HANDLE again = open_wide(CREATE_NEW);
  result("CreateFileW (CREATE_NEW, it exists)", again != INVALID_HANDLE_VALUE);
  result("DeleteFileW", DeleteFileW(name));
  result("DeleteFileW (again)", DeleteFileW(name));
  HANDLE gone = open_wide(OPEN_EXISTING);
  result("CreateFileW (OPEN_EXISTING, deleted)", gone != INVALID_HANDLE_VALUE);

  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
