// Mutexes: CreateMutexA/W and ReleaseMutex. Waits on them: waits.cpp. A
// mutex whose owner thread ends without releasing it is abandoned: the next
// wait that takes it answers WAIT_ABANDONED_0 + its index.
#include <mutex>
#include <new>

#include "objects.hpp"
#include "status.hpp"
#include "waits.hpp"

namespace proact::win32 {

// The mutexes one thread owns, each holding a reference, linked through a
// list of the thread's own; its destructor (the thread ends) abandons them.
struct mutex_owner {
  struct link {
    mutex_object* mutex;
    link* next;
  };
  mutex_owner() = default;
  mutex_owner(const mutex_owner&) = delete;
  mutex_owner& operator=(const mutex_owner&) = delete;
  ~mutex_owner() {
    std::lock_guard lock(waits_lock());
    abandon_locked();
  }
  void abandon_locked() noexcept {
    if (owned == nullptr) return;
    while (owned != nullptr) {
      link* l = owned;
      owned = l->next;
      l->mutex->owner = nullptr;
      l->mutex->recursion = 0;
      l->mutex->abandoned = true;
      release_locked(l->mutex);
      delete l;
    }
    notify_waiters_locked();
  }
  link* owned = nullptr;
};

mutex_owner& this_thread_as_owner() noexcept {
  thread_local mutex_owner me;
  return me;
}

void abandon_mutexes_locked() noexcept {
  this_thread_as_owner().abandon_locked();
}

bool take_mutex_locked(mutex_object& m, mutex_owner& me) noexcept {
  const bool was_abandoned = m.abandoned;
  m.abandoned = false;
  if (m.owner == &me) {
    ++m.recursion;
    return was_abandoned;
  }
  // Without room to remember it, the mutex is still taken; it just cannot
  // be abandoned for the thread's end (a ReleaseMutex still frees it).
  auto* l = new (std::nothrow) mutex_owner::link{&m, me.owned};
  if (l != nullptr) {
    ++m.refs;
    me.owned = l;
  }
  m.owner = &me;
  m.recursion = 1;
  return was_abandoned;
}

namespace {

// The owner's registry no longer holds m (its last level was released).
void forget_locked(mutex_owner& me, mutex_object& m) noexcept {
  for (mutex_owner::link** l = &me.owned; *l != nullptr; l = &(*l)->next) {
    if ((*l)->mutex != &m) continue;
    mutex_owner::link* gone = *l;
    *l = gone->next;
    delete gone;
    release_locked(&m);  // may delete m: the last use
    return;
  }
}

HANDLE create_mutex(bool initial_owner, bool named) {
  // As for events: there is no namespace shared with other processes.
  if (named) {
    SetLastError(ERROR_NOT_SUPPORTED);
    return nullptr;
  }
  auto* m = new (std::nothrow) mutex_object;
  if (m == nullptr) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  std::lock_guard lock(waits_lock());
  HANDLE h = new_waitable_handle(m);
  if (h == nullptr) {
    delete m;
    return nullptr;
  }
  if (initial_owner) (void)take_mutex_locked(*m, this_thread_as_owner());
  return h;
}

}  // namespace
}  // namespace proact::win32

using namespace proact::win32;

HANDLE WINAPI CreateMutexA(LPVOID /*lpMutexAttributes*/, BOOL bInitialOwner, LPCSTR lpName) {
  return create_mutex(bInitialOwner != FALSE, lpName != nullptr && *lpName != '\0');
}

HANDLE WINAPI CreateMutexW(LPVOID /*lpMutexAttributes*/, BOOL bInitialOwner, LPCWSTR lpName) {
  return create_mutex(bInitialOwner != FALSE, lpName != nullptr && *lpName != L'\0');
}

BOOL WINAPI ReleaseMutex(HANDLE hMutex) {
  mutex_owner& me = this_thread_as_owner();
  std::lock_guard lock(waits_lock());
  waitable_object* w = find_waitable(hMutex);
  if (w == nullptr || w->kind != waitable_object::type::mutex)
    return fail_win32(ERROR_INVALID_HANDLE);
  auto& m = static_cast<mutex_object&>(*w);
  if (m.owner != &me) return fail_win32(ERROR_NOT_OWNER);
  if (--m.recursion != 0) return TRUE;
  m.owner = nullptr;
  notify_waiters_locked();
  forget_locked(me, m);
  return TRUE;
}
