// The one lock and condition that every wait on a thread, event, semaphore
// or mutex handle uses (not an I/O path: completion ports have their own),
// and the objects whose state is more than a flag.
#pragma once

#include <mutex>

#include "objects.hpp"

namespace proact::win32 {

// A thread's identity as a mutex owner: its entry in the registry of the
// mutexes it owns (mutexes.cpp), which abandons them when the thread ends.
struct mutex_owner;

// Signaled while its count is above zero; a satisfied wait takes one.
struct semaphore_object final : waitable_object {
  semaphore_object(LONG initial, LONG maximum_count) noexcept
      : waitable_object(type::semaphore), count(initial), maximum(maximum_count) {}
  LONG count;
  const LONG maximum;
};

// Signaled while no thread owns it, and always for the thread that owns it
// (a wait by the owner nests). A satisfied wait makes the waiter the owner.
struct mutex_object final : waitable_object {
  mutex_object() noexcept : waitable_object(type::mutex) {}
  mutex_owner* owner = nullptr;
  unsigned long recursion = 0;  // satisfied waits not yet released by ReleaseMutex
  bool abandoned = false;       // its owner ended without releasing it
};

std::mutex& waits_lock() noexcept;
// Marks w signaled and wakes the waiters to look again. Caller holds the lock.
void signal_locked(waitable_object& w) noexcept;
// Wakes the waiters to look again (a count or an owner changed). Caller
// holds the lock.
void notify_waiters_locked() noexcept;
// Drops one reference; the last one deletes w. Caller holds the lock.
void release_locked(waitable_object* w) noexcept;

// The calling thread as a mutex owner (mutexes.cpp).
mutex_owner& this_thread_as_owner() noexcept;
// The calling thread ends: the mutexes it owns become abandoned, before its
// handle is signaled, as on Windows (a thread that is not CreateThread's
// abandons them when its thread-local storage goes). Caller holds the lock.
void abandon_mutexes_locked() noexcept;
// The calling thread takes m (one more level if it owns it already); true
// if m had been abandoned by its previous owner. Caller holds the lock.
bool take_mutex_locked(mutex_object& m, mutex_owner& me) noexcept;

}  // namespace proact::win32
