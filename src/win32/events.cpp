// Events: CreateEventA/W, SetEvent, ResetEvent and Winsock's names for them
// (WSACreateEvent, WSASetEvent, WSAResetEvent, WSACloseEvent). Waits on them:
// waits.cpp.
#include <mutex>
#include <new>

#include "objects.hpp"
#include "status.hpp"
#include "waits.hpp"

namespace proact::win32 {
namespace {

struct event_object final : waitable_object {
  event_object() noexcept : waitable_object(type::event) {}
};

HANDLE create_event(bool manual_reset, bool initial_state, bool named) {
  // Named events are shared between processes on Windows; here there is no
  // such namespace, so a name is refused rather than ignored.
  if (named) {
    SetLastError(ERROR_NOT_SUPPORTED);
    return nullptr;
  }
  auto* e = new (std::nothrow) event_object;
  if (e == nullptr) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  e->manual_reset = manual_reset;
  e->signaled = initial_state;
  std::lock_guard lock(waits_lock());
  HANDLE h = new_waitable_handle(e);
  if (h == nullptr) delete e;
  return h;
}

// Sets or resets the event behind h; false if h is not an event.
bool set_state(HANDLE h, bool signaled) noexcept {
  std::lock_guard lock(waits_lock());
  waitable_object* w = find_waitable(h);
  if (w == nullptr || w->kind != waitable_object::type::event) return false;
  if (signaled) {
    signal_locked(*w);
  } else {
    w->signaled = false;
  }
  return true;
}

}  // namespace
}  // namespace proact::win32

using namespace proact::win32;

HANDLE WINAPI CreateEventA(LPVOID /*lpEventAttributes*/, BOOL bManualReset, BOOL bInitialState,
                           LPCSTR lpName) {
  return create_event(bManualReset != FALSE, bInitialState != FALSE,
                      lpName != nullptr && *lpName != '\0');
}

HANDLE WINAPI CreateEventW(LPVOID /*lpEventAttributes*/, BOOL bManualReset, BOOL bInitialState,
                           LPCWSTR lpName) {
  return create_event(bManualReset != FALSE, bInitialState != FALSE,
                      lpName != nullptr && *lpName != L'\0');
}

BOOL WINAPI SetEvent(HANDLE hEvent) {
  return set_state(hEvent, true) ? TRUE : fail_win32(ERROR_INVALID_HANDLE);
}

BOOL WINAPI ResetEvent(HANDLE hEvent) {
  return set_state(hEvent, false) ? TRUE : fail_win32(ERROR_INVALID_HANDLE);
}

WSAEVENT WSAAPI WSACreateEvent() {
  HANDLE h = create_event(true, false, false);
  if (h == nullptr) WSASetLastError(WSA_NOT_ENOUGH_MEMORY);
  return h;
}

BOOL WSAAPI WSASetEvent(WSAEVENT hEvent) {
  return set_state(hEvent, true) ? TRUE : refuse(WSA_INVALID_HANDLE);
}

BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent) {
  return set_state(hEvent, false) ? TRUE : refuse(WSA_INVALID_HANDLE);
}

BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent) {
  // Only an event: CloseHandle of anything else through here is refused.
  std::lock_guard lock(waits_lock());
  waitable_object* w = find_waitable(hEvent);
  if (w == nullptr || w->kind != waitable_object::type::event || !free_waitable_slot(hEvent, w))
    return refuse(WSA_INVALID_HANDLE);
  release_locked(w);
  return TRUE;
}
