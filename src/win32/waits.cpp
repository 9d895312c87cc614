// WaitForSingleObject, WaitForMultipleObjects and WSAWaitForMultipleEvents
// on thread, event, semaphore and mutex handles, and CloseHandle of those
// handles.
#include "waits.hpp"

#include <chrono>
#include <condition_variable>

#include "proact/port.hpp"
#include "status.hpp"

namespace proact::win32 {
namespace {

std::mutex waits_mutex;
std::condition_variable changed;  // any object; waiters re-check theirs

// Whether a wait by `me` may take w now.
bool ready_for(const waitable_object& w, const mutex_owner& me) noexcept {
  switch (w.kind) {
    case waitable_object::type::semaphore:
      return static_cast<const semaphore_object&>(w).count > 0;
    case waitable_object::type::mutex: {
      const mutex_owner* owner = static_cast<const mutex_object&>(w).owner;
      return owner == nullptr || owner == &me;
    }
    default:
      return w.signaled;
  }
}

// The wait's objects are all ready (wait_all) or one is; `which` is the
// lowest ready index.
bool satisfied(waitable_object* const* objects, DWORD count, bool wait_all, const mutex_owner& me,
               DWORD& which) noexcept {
  DWORD ready = 0;
  for (DWORD i = count; i-- > 0;) {
    if (!ready_for(*objects[i], me)) continue;
    ++ready;
    which = i;
  }
  return wait_all ? ready == count : ready > 0;
}

// What a satisfied wait takes: the auto-reset events it waited for, one of
// each semaphore's count, each mutex's ownership. The lowest index of an
// abandoned mutex it took, or `count` if none.
DWORD consume(waitable_object* const* objects, DWORD count, bool wait_all, mutex_owner& me,
              DWORD which) noexcept {
  DWORD abandoned = count;
  for (DWORD i = wait_all ? 0 : which; i < (wait_all ? count : which + 1); ++i) {
    waitable_object& w = *objects[i];
    switch (w.kind) {
      case waitable_object::type::semaphore:
        --static_cast<semaphore_object&>(w).count;
        break;
      case waitable_object::type::mutex:
        if (take_mutex_locked(static_cast<mutex_object&>(w), me) && abandoned == count)
          abandoned = i;
        break;
      default:
        if (!w.manual_reset) w.signaled = false;
        break;
    }
  }
  return abandoned;
}

// Windows' checks, then the wait; the error is the last error on WAIT_FAILED.
DWORD wait_for(DWORD count, const HANDLE* handles, bool wait_all, DWORD milliseconds,
               DWORD& error) noexcept {
  if (count == 0 || count > MAXIMUM_WAIT_OBJECTS || handles == nullptr) {
    error = ERROR_INVALID_PARAMETER;
    return WAIT_FAILED;
  }
  std::unique_lock lock(waits_mutex);
  waitable_object* objects[MAXIMUM_WAIT_OBJECTS];
  for (DWORD i = 0; i < count; ++i) {
    objects[i] = find_waitable(handles[i]);
    if (objects[i] == nullptr) {
      error = ERROR_INVALID_HANDLE;
      return WAIT_FAILED;
    }
    // The same object twice in a wait for all: Windows refuses it.
    for (DWORD j = 0; wait_all && j < i; ++j) {
      if (objects[j] == objects[i]) {
        error = ERROR_INVALID_PARAMETER;
        return WAIT_FAILED;
      }
    }
  }
  // Held while waiting: a handle closed meanwhile leaves its object alive.
  for (DWORD i = 0; i < count; ++i) ++objects[i]->refs;
  mutex_owner& me = this_thread_as_owner();
  DWORD which = 0;
  const auto ready = [&] { return satisfied(objects, count, wait_all, me, which); };
  bool done = ready();
  if (!done && milliseconds != 0) {
    // Blocked: another thread may take this one's place on its port.
    const proact::blocking_scope blocked;
    if (milliseconds == INFINITE) {
      changed.wait(lock, ready);
      done = true;
    } else {
      done = changed.wait_for(lock, std::chrono::milliseconds(milliseconds), ready);
    }
  }
  DWORD abandoned = count;
  if (done) abandoned = consume(objects, count, wait_all, me, which);
  for (DWORD i = 0; i < count; ++i) release_locked(objects[i]);
  if (!done) return WAIT_TIMEOUT;
  // An abandoned mutex is still taken; the result says so (for a wait for
  // all, any index in the range would do: the lowest abandoned one).
  if (abandoned != count) return WAIT_ABANDONED_0 + abandoned;
  return WAIT_OBJECT_0 + (wait_all ? 0 : which);
}

}  // namespace

std::mutex& waits_lock() noexcept {
  return waits_mutex;
}

void signal_locked(waitable_object& w) noexcept {
  w.signaled = true;
  changed.notify_all();
}

void notify_waiters_locked() noexcept {
  changed.notify_all();
}

void release_locked(waitable_object* w) noexcept {
  if (--w->refs == 0) delete w;
}

bool close_waitable_handle(HANDLE h) noexcept {
  std::lock_guard lock(waits_mutex);
  waitable_object* w = nullptr;
  if (!free_waitable_slot(h, w)) return false;
  // A thread runs on, and a waiter keeps waiting: only the handle goes.
  release_locked(w);
  return true;
}

}  // namespace proact::win32

using namespace proact::win32;

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds) {
  DWORD error = 0;
  const DWORD result = wait_for(nCount, lpHandles, bWaitAll != FALSE, dwMilliseconds, error);
  if (result == WAIT_FAILED) SetLastError(error);
  return result;
}

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds) {
  return WaitForMultipleObjects(1, &hHandle, TRUE, dwMilliseconds);
}

DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT* lphEvents, BOOL fWaitAll,
                                      DWORD dwTimeout, BOOL /*fAlertable: no APCs here*/) {
  DWORD error = 0;
  const DWORD result = wait_for(cEvents, lphEvents, fWaitAll != FALSE, dwTimeout, error);
  if (result == WAIT_FAILED) WSASetLastError(static_cast<int>(error));
  return result;
}
