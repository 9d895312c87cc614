// Semaphores: CreateSemaphoreA/W and ReleaseSemaphore. Waits on them (each
// satisfied wait takes one from the count): waits.cpp.
#include <mutex>
#include <new>

#include "objects.hpp"
#include "status.hpp"
#include "waits.hpp"

namespace proact::win32 {
namespace {

HANDLE create_semaphore(LONG initial, LONG maximum, bool named) {
  if (maximum <= 0 || initial < 0 || initial > maximum) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return nullptr;
  }
  // As for events: there is no namespace shared with other processes.
  if (named) {
    SetLastError(ERROR_NOT_SUPPORTED);
    return nullptr;
  }
  auto* s = new (std::nothrow) semaphore_object(initial, maximum);
  if (s == nullptr) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  std::lock_guard lock(waits_lock());
  HANDLE h = new_waitable_handle(s);
  if (h == nullptr) delete s;
  return h;
}

}  // namespace
}  // namespace proact::win32

using namespace proact::win32;

HANDLE WINAPI CreateSemaphoreA(LPVOID /*lpSemaphoreAttributes*/, LONG lInitialCount,
                               LONG lMaximumCount, LPCSTR lpName) {
  return create_semaphore(lInitialCount, lMaximumCount, lpName != nullptr && *lpName != '\0');
}

HANDLE WINAPI CreateSemaphoreW(LPVOID /*lpSemaphoreAttributes*/, LONG lInitialCount,
                               LONG lMaximumCount, LPCWSTR lpName) {
  return create_semaphore(lInitialCount, lMaximumCount, lpName != nullptr && *lpName != L'\0');
}

BOOL WINAPI ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount) {
  if (lReleaseCount <= 0) return fail_win32(ERROR_INVALID_PARAMETER);
  std::lock_guard lock(waits_lock());
  waitable_object* w = find_waitable(hSemaphore);
  if (w == nullptr || w->kind != waitable_object::type::semaphore)
    return fail_win32(ERROR_INVALID_HANDLE);
  auto& s = static_cast<semaphore_object&>(*w);
  // Past the maximum: the count stays as it is.
  if (lReleaseCount > s.maximum - s.count) return fail_win32(ERROR_TOO_MANY_POSTS);
  if (lpPreviousCount != nullptr) *lpPreviousCount = s.count;
  s.count += lReleaseCount;
  notify_waiters_locked();
  return TRUE;
}
