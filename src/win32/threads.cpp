// Threads: CreateThread, _beginthreadex, ExitThread, _endthreadex,
// GetExitCodeThread, GetCurrentThreadId (waiting on a thread's handle:
// waits.cpp).
#include <pthread.h>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include "objects.hpp"
#include "status.hpp"
#include "waits.hpp"

namespace proact::win32 {

struct thread_object final : waitable_object {
  thread_object() noexcept : waitable_object(type::thread) {}
  LPTHREAD_START_ROUTINE start = nullptr;
  LPVOID parameter = nullptr;
  DWORD exit_code = STILL_ACTIVE;
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

// The thread object of the calling thread, if CreateThread made it and it
// has not ended yet.
thread_object*& current_object() noexcept {
  thread_local thread_object* t = nullptr;
  return t;
}

// The thread ends with `code`: as on Windows, its mutexes are abandoned
// before its handle is signaled. Caller holds the waits' lock.
void finish_locked(thread_object* t, DWORD code) noexcept {
  abandon_mutexes_locked();
  t->exit_code = code;
  signal_locked(*t);
  release_locked(t);
}

void run(thread_object* t) {
  current_id() = t->id;
  current_object() = t;
  const DWORD code = t->start(t->parameter);
  std::lock_guard lock(waits_lock());
  current_object() = nullptr;
  finish_locked(t, code);
}

}  // namespace

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
  t->refs = 2;  // the handle's and the running thread's
  const DWORD id = t->id;
  HANDLE h = nullptr;
  {
    std::lock_guard lock(waits_lock());
    h = new_waitable_handle(t);
  }
  if (h == nullptr) {
    delete t;
    return nullptr;
  }
  try {
    std::thread(run, t).detach();
  } catch (const std::system_error&) {
    std::lock_guard lock(waits_lock());
    waitable_object* same = nullptr;
    (void)free_waitable_slot(h, same);
    delete t;
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  if (lpThreadId != nullptr) *lpThreadId = id;
  return h;
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode) {
  if (lpExitCode == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  std::lock_guard lock(waits_lock());
  waitable_object* w = find_waitable(hThread);
  if (w == nullptr || w->kind != waitable_object::type::thread)
    return fail_win32(ERROR_INVALID_HANDLE);
  *lpExitCode = static_cast<thread_object*>(w)->exit_code;
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

namespace {

// What _beginthreadex's thread runs: the C runtime's start routine, through
// CreateThread's.
struct crt_start {
  unsigned (*routine)(void*);
  void* argument;
};

DWORD WINAPI run_crt_start(LPVOID parameter) {
  const crt_start start = *static_cast<crt_start*>(parameter);
  delete static_cast<crt_start*>(parameter);
  return start.routine(start.argument);
}

}  // namespace

std::uintptr_t __cdecl _beginthreadex(void* security, unsigned stack_size,
                                      unsigned(__stdcall* start_address)(void*), void* arglist,
                                      unsigned initflag, unsigned* thrdaddr) {
  if (start_address == nullptr) {
    errno = EINVAL;
    return 0;
  }
  auto* start = new (std::nothrow) crt_start{start_address, arglist};
  if (start == nullptr) {
    errno = EAGAIN;
    return 0;
  }
  DWORD id = 0;
  HANDLE h = CreateThread(security, stack_size, run_crt_start, start, initflag, &id);
  if (h == nullptr) {
    delete start;
    errno = GetLastError() == ERROR_NOT_SUPPORTED ? EINVAL : EAGAIN;
    return 0;
  }
  if (thrdaddr != nullptr) *thrdaddr = id;
  return reinterpret_cast<std::uintptr_t>(h);
}

void WINAPI ExitThread(DWORD dwExitCode) {
  {
    std::lock_guard lock(waits_lock());
    thread_object* t = current_object();
    current_object() = nullptr;
    if (t != nullptr) {
      finish_locked(t, dwExitCode);
    } else {
      abandon_mutexes_locked();  // a thread CreateThread did not make
    }
  }
  // Unwinds the thread's stack (C++ destructors run, which Windows' does
  // not do) and ends it.
  pthread_exit(nullptr);
}

void __cdecl _endthreadex(unsigned retval) {
  ExitThread(retval);
}
