// Semaphores and mutexes. A semaphore is signaled while its count is above
// zero and each satisfied wait takes one; ReleaseSemaphore adds, never past
// the maximum, and says the count before. A mutex is signaled while nobody
// owns it and always for its owner (waits nest, each needs a ReleaseMutex);
// only the owner releases it; an owner that ends without releasing it
// abandons it, and the wait that takes it next answers WAIT_ABANDONED_0 + i.
// Other threads see all of it (their exit codes carry what they saw).
// ExitThread and _endthreadex end a thread with their exit code (and
// abandon what it owns). Refusals: bad counts, releases past the maximum or
// by a non-owner, the wrong kind of handle.
#include <process.h>

#include <cstdint>

#include "scenario.h"

using namespace scenario;

namespace {

void create_semaphore(const char* what, LONG initial, LONG maximum) {
  SetLastError(0);
  HANDLE h = CreateSemaphoreA(nullptr, initial, maximum, nullptr);
  const DWORD error = GetLastError();
  std::printf("CreateSemaphoreA (%s): %s", what, h != nullptr ? "handle" : "NULL");
  if (h == nullptr) std::printf(" error=%lu", static_cast<unsigned long>(error));
  std::printf("\n");
  if (h != nullptr) CloseHandle(h);
}

void release_semaphore(const char* what, HANDLE h, LONG count) {
  SetLastError(0);
  LONG previous = -1;
  const BOOL ok = ReleaseSemaphore(h, count, &previous);
  const DWORD error = GetLastError();
  std::printf("ReleaseSemaphore (%s): %d", what, ok);
  if (ok) {
    std::printf(" previous=%ld", static_cast<long>(previous));
  } else {
    std::printf(" error=%lu", static_cast<unsigned long>(error));
  }
  std::printf("\n");
}

void release_mutex(const char* what, HANDLE h) {
  SetLastError(0);
  const BOOL ok = ReleaseMutex(h);
  const DWORD error = GetLastError();
  std::printf("ReleaseMutex (%s): %d", what, ok);
  if (!ok) std::printf(" error=%lu", static_cast<unsigned long>(error));
  std::printf("\n");
}

HANDLE start(LPTHREAD_START_ROUTINE f, HANDLE argument) {
  HANDLE t = CreateThread(nullptr, 0, f, argument, 0, nullptr);
  if (t == nullptr) fail("CreateThread");
  return t;
}

// Waits for the thread to end; prints its exit code (what it saw).
void join(const char* what, HANDLE thread) {
  if (WaitForSingleObject(thread, INFINITE) != WAIT_OBJECT_0) fail("WaitForSingleObject (thread)");
  DWORD code = 0;
  GetExitCodeThread(thread, &code);
  std::printf("%s: %lu\n", what, static_cast<unsigned long>(code));
  CloseHandle(thread);
}

// Exit code: what its wait for the semaphore (infinite) answered.
DWORD WINAPI take_semaphore(LPVOID semaphore) {
  return WaitForSingleObject(static_cast<HANDLE>(semaphore), INFINITE);
}

// Exit code: its zero-time wait for a mutex another thread owns.
DWORD WINAPI try_mutex(LPVOID mutex) {
  return WaitForSingleObject(static_cast<HANDLE>(mutex), 0);
}

// Exit code: its wait (infinite) for the mutex, then its release of it.
DWORD WINAPI take_and_release_mutex(LPVOID mutex) {
  const DWORD waited = WaitForSingleObject(static_cast<HANDLE>(mutex), INFINITE);
  return ReleaseMutex(static_cast<HANDLE>(mutex)) ? waited : 1000 + GetLastError();
}

// Takes the mutex and ends without releasing it. Exit code: its wait.
DWORD WINAPI abandon_mutex(LPVOID mutex) {
  return WaitForSingleObject(static_cast<HANDLE>(mutex), INFINITE);
}

// Takes the mutex and leaves through ExitThread.
DWORD WINAPI exit_owning_mutex(LPVOID mutex) {
  if (WaitForSingleObject(static_cast<HANDLE>(mutex), INFINITE) != WAIT_OBJECT_0) return 1;
  ExitThread(5);
}

// Leaves through _endthreadex.
unsigned __stdcall end_crt_thread(void*) {
  _endthreadex(6);
}

// Exit code: the error of its release of a mutex it does not own.
DWORD WINAPI release_not_owned(LPVOID mutex) {
  SetLastError(0);
  return ReleaseMutex(static_cast<HANDLE>(mutex)) ? 0 : GetLastError();
}

}  // namespace

int main() {
  // --- semaphores ---
  HANDLE sem = CreateSemaphoreA(nullptr, 2, 3, nullptr);
  if (sem == nullptr) fail("CreateSemaphoreA");
  wait_one("semaphore 2 of 3", sem, 0);
  wait_one("semaphore 1 of 3", sem, 0);
  wait_one("semaphore 0 of 3", sem, 0);
  wait_one("semaphore 0 of 3, 20 ms", sem, 20);
  release_semaphore("2 to 0", sem, 2);
  release_semaphore("2 more to 2, past 3", sem, 2);
  release_semaphore("1 more to 2", sem, 1);
  if (under_wine()) {
    wine_difference("ReleaseSemaphore with a count of 0 or below",
                    "Wine adds 0 (success) and refuses -1 as past the maximum; Windows refuses "
                    "both (STATUS_INVALID_PARAMETER, ERROR_INVALID_PARAMETER)");
    std::printf("ReleaseSemaphore (0): 0 error=%lu\n",
                static_cast<unsigned long>(ERROR_INVALID_PARAMETER));
    std::printf("ReleaseSemaphore (-1): 0 error=%lu\n",
                static_cast<unsigned long>(ERROR_INVALID_PARAMETER));
  } else {
    release_semaphore("0", sem, 0);
    release_semaphore("-1", sem, -1);
  }
  wait_one("semaphore 3 of 3", sem, 0);
  wait_one("semaphore 2 of 3", sem, 0);
  wait_one("semaphore 1 of 3", sem, 0);
  wait_one("semaphore 0 of 3", sem, 0);

  HANDLE unset = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  HANDLE set = CreateEventA(nullptr, TRUE, TRUE, nullptr);
  if (unset == nullptr || set == nullptr) fail("CreateEventA");
  release_semaphore("1 to 0", sem, 1);
  HANDLE any[2] = {unset, sem};
  wait_many("any, an unset event and the semaphore at 1", 2, any, FALSE, 0);
  wait_many("any, again (the semaphore at 0)", 2, any, FALSE, 0);
  release_semaphore("1 to 0", sem, 1);
  HANDLE all[2] = {sem, set};
  wait_many("all, the semaphore at 1 and a set event", 2, all, TRUE, 0);
  wait_one("the semaphore after", sem, 0);

  HANDLE taker = start(take_semaphore, sem);
  release_semaphore("1 to 0, a thread waits", sem, 1);
  join("the waiting thread's wait", taker);
  wait_one("the semaphore after the thread took it", sem, 0);

  create_semaphore("initial 4, maximum 3", 4, 3);
  create_semaphore("initial 0, maximum 0", 0, 0);
  create_semaphore("initial -1, maximum 3", -1, 3);
  create_semaphore("initial 3, maximum 3", 3, 3);
  release_semaphore("an event", set, 1);

  // --- mutexes ---
  HANDLE mutex = CreateMutexA(nullptr, FALSE, nullptr);
  if (mutex == nullptr) fail("CreateMutexA");
  wait_one("a free mutex", mutex, 0);
  wait_one("the mutex again, by its owner", mutex, 0);
  join("another thread's try while it is owned", start(try_mutex, mutex));
  join("another thread's release of it", start(release_not_owned, mutex));
  release_mutex("one level of two", mutex);
  join("another thread's try, one level left", start(try_mutex, mutex));
  release_mutex("the last level", mutex);
  release_mutex("not owned any more", mutex);
  join("another thread's wait and release, the mutex free", start(take_and_release_mutex, mutex));
  wait_one("the mutex, free again", mutex, 0);
  release_mutex("the owner's", mutex);

  HANDLE owned = CreateMutexA(nullptr, TRUE, nullptr);
  if (owned == nullptr) fail("CreateMutexA (initial owner)");
  join("another thread's try, created owned", start(try_mutex, owned));
  release_mutex("the creator's", owned);
  join("another thread's try, released", start(try_mutex, owned));

  join("a thread that takes the mutex and ends", start(abandon_mutex, mutex));
  wait_one("the abandoned mutex", mutex, 0);
  wait_one("the mutex, taken after it was abandoned, again", mutex, 0);
  release_mutex("one level of two", mutex);
  release_mutex("the last level", mutex);
  join("a thread that takes the mutex and calls ExitThread(5)", start(exit_owning_mutex, mutex));
  wait_one("the mutex after ExitThread", mutex, 0);
  release_mutex("the owner's", mutex);
  const std::uintptr_t crt = _beginthreadex(nullptr, 0, end_crt_thread, nullptr, 0, nullptr);
  if (crt == 0) fail("_beginthreadex");
  join("a _beginthreadex thread that calls _endthreadex(6)",
       reinterpret_cast<HANDLE>(crt));  // NOLINT(performance-no-int-to-ptr)
  join("a thread that takes the mutex and ends, again", start(abandon_mutex, mutex));
  HANDLE with_mutex[2] = {unset, mutex};
  wait_many("any, an unset event and the abandoned mutex", 2, with_mutex, FALSE, 0);
  release_mutex("the owner's", mutex);
  HANDLE both[2] = {mutex, sem};
  release_semaphore("1 to 0", sem, 1);
  wait_many("all, the mutex and the semaphore", 2, both, TRUE, 0);
  wait_one("the semaphore after", sem, 0);
  release_mutex("the owner's", mutex);
  release_mutex("an event", set);

  std::printf("CloseHandle (semaphore, mutexes, events): %d %d %d %d %d\n", CloseHandle(sem),
              CloseHandle(mutex), CloseHandle(owned), CloseHandle(unset), CloseHandle(set));
  release_semaphore("a closed semaphore", sem, 1);
  release_mutex("a closed mutex", mutex);
  return 0;
}
