// CRITICAL_SECTION (a recursive mutex in its 40 bytes, as Windows' may be
// entered again by its owner) and the Interlocked functions.
#include <atomic>
#include <mutex>
#include <new>

#include "proact/port.hpp"
#include "proact/win32.h"

namespace {

static_assert(sizeof(std::recursive_mutex) <= sizeof(CRITICAL_SECTION::opaque));
static_assert(alignof(std::recursive_mutex) <= 8);

std::recursive_mutex& mutex_of(LPCRITICAL_SECTION cs) noexcept {
  return *std::launder(reinterpret_cast<std::recursive_mutex*>(cs->opaque));
}

std::atomic_ref<LONG> ref(LONG volatile* p) noexcept {
  // Windows' Interlocked functions take volatile; the value is only ever
  // accessed atomically.
  return std::atomic_ref<LONG>(*const_cast<LONG*>(p));
}

}  // namespace

void WINAPI InitializeCriticalSection(LPCRITICAL_SECTION lpCriticalSection) {
  new (lpCriticalSection->opaque) std::recursive_mutex;
}

BOOL WINAPI InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION lpCriticalSection,
                                                  DWORD /*dwSpinCount*/) {
  InitializeCriticalSection(lpCriticalSection);
  return TRUE;
}

void WINAPI EnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection) {
  std::recursive_mutex& m = mutex_of(lpCriticalSection);
  if (m.try_lock()) return;
  const proact::blocking_scope blocked;  // another thread may take this one's place on its port
  m.lock();
}

BOOL WINAPI TryEnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection) {
  return mutex_of(lpCriticalSection).try_lock() ? TRUE : FALSE;
}

void WINAPI LeaveCriticalSection(LPCRITICAL_SECTION lpCriticalSection) {
  mutex_of(lpCriticalSection).unlock();
}

void WINAPI DeleteCriticalSection(LPCRITICAL_SECTION lpCriticalSection) {
  mutex_of(lpCriticalSection).~recursive_mutex();
}

LONG WINAPI InterlockedIncrement(LONG volatile* Addend) {
  return ref(Addend).fetch_add(1) + 1;
}

LONG WINAPI InterlockedDecrement(LONG volatile* Addend) {
  return ref(Addend).fetch_sub(1) - 1;
}

LONG WINAPI InterlockedExchange(LONG volatile* Target, LONG Value) {
  return ref(Target).exchange(Value);
}

LONG WINAPI InterlockedExchangeAdd(LONG volatile* Addend, LONG Value) {
  return ref(Addend).fetch_add(Value);
}

LONG WINAPI InterlockedCompareExchange(LONG volatile* Destination, LONG Exchange, LONG Comperand) {
  LONG expected = Comperand;
  ref(Destination).compare_exchange_strong(expected, Exchange);
  return expected;
}
