// Modules. There are no DLLs behind this layer: GetModuleHandleA
// finds none, so a program that looks for Wine's ntdll export learns it is
// not under Wine.
#include "proact/win32.h"

HMODULE WINAPI GetModuleHandleA(LPCSTR /*lpModuleName*/) {
  SetLastError(ERROR_MOD_NOT_FOUND);
  return nullptr;
}

FARPROC WINAPI GetProcAddress(HMODULE /*hModule*/, LPCSTR /*lpProcName*/) {
  SetLastError(ERROR_PROC_NOT_FOUND);
  return nullptr;
}
