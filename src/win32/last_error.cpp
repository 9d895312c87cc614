// The thread's last error: one value behind both GetLastError and
// WSAGetLastError, as on Windows.
#include "proact/win32.h"

namespace {
thread_local DWORD last_error = ERROR_SUCCESS;
}

DWORD WINAPI GetLastError() {
  return last_error;
}
void WINAPI SetLastError(DWORD dwErrCode) {
  last_error = dwErrCode;
}
int WSAAPI WSAGetLastError() {
  return static_cast<int>(last_error);
}
void WSAAPI WSASetLastError(int iError) {
  last_error = static_cast<DWORD>(iError);
}
