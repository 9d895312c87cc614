// What a Win32 source uses around its completion port: winnt.h's memory
// macros, LOWORD/HIWORD/MAKELONG, the performance counter, GlobalAlloc and
// LocalAlloc, FormatMessage of
// system errors (whose texts differ between Windows versions and Wine, so
// only their presence is printed) with LocalFree, the Microsoft C runtime's
// string functions (sprintf_s, strcpy_s, strcat_s, _snprintf, _stricmp,
// _strdup) and <tchar.h>'s ANSI mapping (_tmain, _T, _tcslen, _tprintf).
#include <tchar.h>
#include <ws2tcpip.h>

#include "scenario.h"

using namespace scenario;

namespace {

void format(const char* what, DWORD id) {
  LPSTR text = nullptr;
  SetLastError(0);
  const DWORD n = FormatMessageA(
      FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, id, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), reinterpret_cast<LPSTR>(&text), 0,
      nullptr);
  const DWORD error = GetLastError();
  std::printf("FormatMessageA (%s): %s", what, n != 0 ? "text" : "0");
  if (n != 0) {
    std::printf(", length matches: %d, ends with a line break: %d", std::strlen(text) == n ? 1 : 0,
                n >= 2 && text[n - 2] == '\r' && text[n - 1] == '\n');
    std::printf(", LocalFree: %s", LocalFree(text) == nullptr ? "NULL" : "not NULL");
  } else {
    std::printf(" error=%lu", static_cast<unsigned long>(error));
  }
  std::printf("\n");
}

}  // namespace

int _tmain(int argc, _TCHAR* argv[]) {
  (void)argc;
  (void)argv;
  char block[16];
  FillMemory(block, sizeof block, 0x5a);
  ZeroMemory(block, 4);
  CopyMemory(block + 4, "abcd", 4);
  MoveMemory(block + 6, block + 4, 4);
  SecureZeroMemory(block + 12, 4);
  std::printf("memory:");
  for (const char c : block)
    std::printf(" %02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
  std::printf("\n");
  // As a DWORD: GCC's -Woverflow misreads Windows' LOWORD of a negative
  // constant.
  const DWORD packed = static_cast<DWORD>(MAKELONG(0x1234, 0xabcd));
  std::printf("MAKELONG: %08lx LOWORD: %04x HIWORD: %04x\n", static_cast<unsigned long>(packed),
              LOWORD(packed), HIWORD(packed));

  LARGE_INTEGER frequency{};
  LARGE_INTEGER before{};
  LARGE_INTEGER after{};
  const BOOL f = QueryPerformanceFrequency(&frequency);
  const BOOL b = QueryPerformanceCounter(&before);
  Sleep(20);
  const BOOL a = QueryPerformanceCounter(&after);
  const long long elapsed_ms = (after.QuadPart - before.QuadPart) * 1000 / frequency.QuadPart;
  std::printf(
      "QueryPerformance*: %d %d %d, frequency positive: %d, 20 ms measured as 15 or more: %d\n", f,
      b, a, frequency.QuadPart > 0, elapsed_ms >= 15);

  format("WSAECONNRESET", WSAECONNRESET);
  format("ERROR_OPERATION_ABORTED", ERROR_OPERATION_ABORTED);
  format("no such message", 0x2345);
  char small[4];
  SetLastError(0);
  const DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                 nullptr, ERROR_INVALID_PARAMETER, 0, small, sizeof small, nullptr);
  std::printf("FormatMessageA (into 4 bytes): %lu error=%lu\n", static_cast<unsigned long>(n),
              static_cast<unsigned long>(GetLastError()));

  auto* global = static_cast<unsigned char*>(GlobalAlloc(GPTR, 64));
  auto* local = static_cast<unsigned char*>(LocalAlloc(LPTR, 64));
  bool zeroed = global != nullptr && local != nullptr;
  for (int i = 0; zeroed && i < 64; ++i) zeroed = global[i] == 0 && local[i] == 0;
  std::printf("GlobalAlloc (GPTR), LocalAlloc (LPTR): zeroed: %d, GlobalFree: %s, LocalFree: %s\n",
              zeroed, GlobalFree(global) == nullptr ? "NULL" : "not NULL",
              LocalFree(local) == nullptr ? "NULL" : "not NULL");

  const char* gai = gai_strerror(EAI_NONAME);
  std::printf("gai_strerror (EAI_NONAME): non-empty: %d, on one line: %d\n", gai[0] != '\0',
              std::strchr(gai, '\n') == nullptr && std::strchr(gai, '\r') == nullptr);

  char text[32];
  std::printf("sprintf_s: %d '%s'\n", sprintf_s(text, "%d-%s", 42, "x"), text);
  std::printf("sprintf_s (size): %d '%s'\n", sprintf_s(text, sizeof text, "%05d", 7), text);
  std::printf("strcpy_s: %d '%s'\n", strcpy_s(text, "head"), text);
  std::printf("strcat_s: %d '%s'\n", strcat_s(text, sizeof text, "+tail"), text);
  char tiny[6];
  std::printf("_snprintf (fits): %d\n", _snprintf(tiny, sizeof tiny, "%s", "abc"));
  std::printf("_snprintf (does not fit): %d\n", _snprintf(tiny, sizeof tiny, "%s", "abcdefgh"));
  std::printf("_stricmp: %d %d\n", _stricmp("Content-Length", "content-length") == 0,
              _stricmp("a", "B") < 0);
  std::printf("_strnicmp: %d\n", _strnicmp("HTTP/1.1", "http/1.0", 7) == 0);
  char* copy = _strdup("copied");
  std::printf("_strdup: '%s'\n", copy);
  std::free(copy);
  _tprintf(_T("_tprintf: %d characters\n"), static_cast<int>(_tcslen(_T("tchar"))));
  return 0;
}
