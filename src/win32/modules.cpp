// Modules and Sleep. There are no DLLs behind this layer: GetModuleHandleA
// finds none, so a program that looks for Wine's ntdll export learns it is
// not under Wine.
#include <chrono>
#include <thread>

#include "proact/win32.h"

HMODULE WINAPI GetModuleHandleA(LPCSTR /*lpModuleName*/) {
  SetLastError(ERROR_MOD_NOT_FOUND);
  return nullptr;
}

FARPROC WINAPI GetProcAddress(HMODULE /*hModule*/, LPCSTR /*lpProcName*/) {
  SetLastError(ERROR_PROC_NOT_FOUND);
  return nullptr;
}

void WINAPI Sleep(DWORD dwMilliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(dwMilliseconds));
}
