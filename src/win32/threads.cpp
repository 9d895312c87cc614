// Threads: CreateThread, WaitForSingleObject, WaitForMultipleObjects on
// thread handles, GetExitCodeThread, GetCurrentThreadId. Not an I/O path:
// one lock serves every thread handle.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>

#include "objects.hpp"
#include "status.hpp"

namespace proact::win32 {

struct thread_object {
  LPTHREAD_START_ROUTINE start = nullptr;
  LPVOID parameter = nullptr;
  bool done = false;
  DWORD exit_code = STILL_ACTIVE;
  int refs = 2;  // the handle's and the running thread's
  DWORD id = 0;
};

namespace {

std::atomic<DWORD> next_thread_id{1};
// This thread's id; 0 until it is first asked for (threads not made by
// CreateThread).
DWORD& current_id() noexcept {
  thread_local DWORD id = 0;
  return id;
}

std::mutex threads_mutex;
std::condition_variable thread_ended;  // any thread; waiters re-check theirs

// Caller holds threads_mutex.
void release_locked(thread_object* t) noexcept {
  if (--t->refs == 0) delete t;
}

void run(thread_object* t) {
  current_id() = t->id;
  const DWORD code = t->start(t->parameter);
  std::lock_guard lock(threads_mutex);
  t->done = true;
  t->exit_code = code;
  thread_ended.notify_all();
  release_locked(t);
}

}  // namespace

bool close_thread_handle(HANDLE h) noexcept {
  std::lock_guard lock(threads_mutex);
  thread_object* t = nullptr;
  if (!free_thread_slot(h, t)) return false;
  // The thread runs on; only the handle goes.
  release_locked(t);
  return true;
}

}  // namespace proact::win32

using namespace proact::win32;

HANDLE WINAPI CreateThread(LPVOID /*lpThreadAttributes*/, SIZE_T /*dwStackSize*/,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId) {
  if (lpStartAddress == nullptr) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return nullptr;
  }
  if ((dwCreationFlags & CREATE_SUSPENDED) != 0) {
    SetLastError(ERROR_NOT_SUPPORTED);
    return nullptr;
  }
  auto* t = new (std::nothrow) thread_object;
  if (t == nullptr) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  t->start = lpStartAddress;
  t->parameter = lpParameter;
  t->id = next_thread_id.fetch_add(1, std::memory_order_relaxed);
  const DWORD id = t->id;
  HANDLE h = nullptr;
  {
    std::lock_guard lock(threads_mutex);
    h = new_thread_handle(t);
  }
  if (h == nullptr) {
    delete t;
    return nullptr;
  }
  try {
    std::thread(run, t).detach();
  } catch (const std::system_error&) {
    std::lock_guard lock(threads_mutex);
    thread_object* same = nullptr;
    (void)free_thread_slot(h, same);
    delete t;
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  if (lpThreadId != nullptr) *lpThreadId = id;
  return h;
}

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds) {
  if (nCount == 0 || nCount > MAXIMUM_WAIT_OBJECTS || lpHandles == nullptr) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return WAIT_FAILED;
  }
  std::unique_lock lock(threads_mutex);
  thread_object* threads[MAXIMUM_WAIT_OBJECTS];
  for (DWORD i = 0; i < nCount; ++i) {
    threads[i] = find_thread(lpHandles[i]);
    // Only thread handles can be waited on here.
    if (threads[i] == nullptr) {
      SetLastError(ERROR_INVALID_HANDLE);
      return WAIT_FAILED;
    }
  }
  DWORD which = 0;
  const auto ready = [&] {
    DWORD done = 0;
    for (DWORD i = 0; i < nCount; ++i) {
      if (!threads[i]->done) continue;
      if (done++ == 0) which = i;
    }
    return bWaitAll ? done == nCount : done > 0;
  };
  // The handles stay valid while this thread waits: a thread object goes only
  // when its handle was closed, which a caller does not do while waiting on it.
  if (dwMilliseconds == INFINITE) {
    thread_ended.wait(lock, ready);
  } else if (!thread_ended.wait_for(lock, std::chrono::milliseconds(dwMilliseconds), ready)) {
    return WAIT_TIMEOUT;
  }
  return WAIT_OBJECT_0 + (bWaitAll ? 0 : which);
}

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds) {
  return WaitForMultipleObjects(1, &hHandle, TRUE, dwMilliseconds);
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode) {
  if (lpExitCode == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  std::lock_guard lock(threads_mutex);
  thread_object* t = find_thread(hThread);
  if (t == nullptr) return fail_win32(ERROR_INVALID_HANDLE);
  *lpExitCode = t->exit_code;
  return TRUE;
}

DWORD WINAPI GetCurrentProcessId() {
  return static_cast<DWORD>(getpid());
}

DWORD WINAPI GetCurrentThreadId() {
  // Small unique numbers, as Windows' are; CreateThread's lpThreadId agrees.
  DWORD& id = current_id();
  if (id == 0) id = next_thread_id.fetch_add(1, std::memory_order_relaxed);
  return id;
}
