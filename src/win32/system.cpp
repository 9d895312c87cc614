// The system and process: GetSystemInfo, the process heap and the local
// and global allocators over the C heap, ticks, Sleep, the performance
// counter.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "proact/port.hpp"
#include "proact/win32.h"

namespace {

// GetProcessHeap's handle: odd, so never one of the handle table's values.
HANDLE process_heap() noexcept {
  return reinterpret_cast<HANDLE>(std::uintptr_t{0x11});  // NOLINT(performance-no-int-to-ptr)
}

std::chrono::milliseconds since_boot() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace

void WINAPI GetSystemInfo(LPSYSTEM_INFO lpSystemInfo) {
  if (lpSystemInfo == nullptr) return;
  std::memset(lpSystemInfo, 0, sizeof *lpSystemInfo);
#if defined(__aarch64__)
  lpSystemInfo->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_ARM64;
#else
  lpSystemInfo->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
#endif
  const long page = sysconf(_SC_PAGESIZE);
  lpSystemInfo->dwPageSize = page > 0 ? static_cast<DWORD>(page) : 4096;
  const unsigned n = std::thread::hardware_concurrency();
  lpSystemInfo->dwNumberOfProcessors = n == 0 ? 1 : n;
  lpSystemInfo->dwActiveProcessorMask =
      n >= 64 ? ~DWORD_PTR{0} : (DWORD_PTR{1} << lpSystemInfo->dwNumberOfProcessors) - 1;
  lpSystemInfo->dwAllocationGranularity = 65536;  // Windows' value; nothing here depends on it
}

HANDLE WINAPI GetProcessHeap() {
  return process_heap();
}

LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes) {
  if (hHeap != process_heap()) return nullptr;
  const SIZE_T n = dwBytes == 0 ? 1 : dwBytes;
  return (dwFlags & HEAP_ZERO_MEMORY) != 0 ? std::calloc(1, n) : std::malloc(n);
}

BOOL WINAPI HeapFree(HANDLE hHeap, DWORD /*dwFlags*/, LPVOID lpMem) {
  if (hHeap != process_heap()) {
    SetLastError(ERROR_INVALID_HANDLE);
    return FALSE;
  }
  std::free(lpMem);
  return TRUE;
}

// LocalAlloc and GlobalAlloc give fixed memory (a pointer is its handle);
// a moveable block (LMEM_MOVEABLE, GMEM_MOVEABLE) would need LocalLock.
HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes) {
  if ((uFlags & LMEM_MOVEABLE) != 0) {
    SetLastError(ERROR_NOT_SUPPORTED);
    return nullptr;
  }
  const SIZE_T n = uBytes == 0 ? 1 : uBytes;
  void* p = (uFlags & LMEM_ZEROINIT) != 0 ? std::calloc(1, n) : std::malloc(n);
  if (p == nullptr) SetLastError(ERROR_NOT_ENOUGH_MEMORY);
  return p;
}

HLOCAL WINAPI LocalFree(HLOCAL hMem) {
  std::free(hMem);
  return nullptr;
}

HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes) {
  return LocalAlloc(uFlags, dwBytes);  // the same flags' values
}

HGLOBAL WINAPI GlobalFree(HGLOBAL hMem) {
  return LocalFree(hMem);
}

DWORD WINAPI GetTickCount() {
  return static_cast<DWORD>(since_boot().count());
}

ULONGLONG WINAPI GetTickCount64() {
  return static_cast<ULONGLONG>(since_boot().count());
}

void WINAPI Sleep(DWORD dwMilliseconds) {
  if (dwMilliseconds == 0) {
    std::this_thread::yield();
    return;
  }
  const proact::blocking_scope blocked;  // another thread may take this one's place on its port
  std::this_thread::sleep_for(std::chrono::milliseconds(dwMilliseconds));
}

BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER* lpPerformanceCount) {
  if (lpPerformanceCount == nullptr) return FALSE;
  // 100 ns units of the monotonic clock (10 MHz, as Windows says).
  lpPerformanceCount->QuadPart = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count() /
                                 100;
  return TRUE;
}

BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER* lpFrequency) {
  if (lpFrequency == nullptr) return FALSE;
  lpFrequency->QuadPart = 10'000'000;
  return TRUE;
}
