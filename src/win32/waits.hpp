// The one lock and condition that every wait on a thread or event handle
// uses (not an I/O path: completion ports have their own).
#pragma once

#include <mutex>

#include "objects.hpp"

namespace proact::win32 {

std::mutex& waits_lock() noexcept;
// Marks w signaled and wakes the waiters to look again. Caller holds the lock.
void signal_locked(waitable_object& w) noexcept;
// Drops one reference; the last one deletes w. Caller holds the lock.
void release_locked(waitable_object* w) noexcept;

}  // namespace proact::win32
