// Events and waits: a manual-reset event stays signaled through waits, an
// auto-reset one is reset by the wait it satisfies; a wait for any answers
// the lowest signaled index and consumes only that one; a wait for all waits
// until every one is signaled at once, then consumes the auto-reset ones;
// a thread waits on an event the main thread sets, and the main thread
// waits on that thread's handle and an event together. Winsock's event
// names (WSACreateEvent, WSAWaitForMultipleEvents...) on the same objects.
// A thread from _beginthreadex, waited on by its handle. Refusals: no
// handles, the same one twice in a wait for all, a closed handle, SetEvent
// on a thread.
#include <process.h>

#include <cstdint>

#include "scenario.h"

using namespace scenario;

namespace {

HANDLE make_event(BOOL manual, BOOL initial) {
  HANDLE h = CreateEventA(nullptr, manual, initial, nullptr);
  if (h == nullptr) fail("CreateEventA");
  return h;
}

HANDLE go;    // set by the main thread
HANDLE done;  // set by the thread once it saw `go`

DWORD WINAPI waiter(LPVOID) {
  if (WaitForSingleObject(go, INFINITE) != WAIT_OBJECT_0) return 1;
  return SetEvent(done) ? 7 : 2;
}

unsigned __stdcall crt_thread(void* argument) {
  return SetEvent(static_cast<HANDLE>(argument)) ? 9 : 3;
}

}  // namespace

int main() {
  HANDLE manual = make_event(TRUE, FALSE);
  wait_one("manual, unset, 0 ms", manual, 0);
  wait_one("manual, unset, 20 ms", manual, 20);
  std::printf("SetEvent: %d\n", SetEvent(manual));
  wait_one("manual, set", manual, 0);
  wait_one("manual, set, again", manual, INFINITE);
  std::printf("ResetEvent: %d\n", ResetEvent(manual));
  wait_one("manual, reset", manual, 0);

  HANDLE automatic = make_event(FALSE, TRUE);
  wait_one("auto, created set", automatic, 0);
  wait_one("auto, after a wait", automatic, 0);

  HANDLE pair[2] = {make_event(FALSE, FALSE), make_event(FALSE, TRUE)};
  wait_many("any, the second set", 2, pair, FALSE, 0);
  wait_many("any, none set", 2, pair, FALSE, 0);
  SetEvent(pair[0]);
  SetEvent(pair[1]);
  wait_many("any, both set", 2, pair, FALSE, 0);
  wait_many("any, the second still set", 2, pair, FALSE, 0);
  SetEvent(pair[1]);
  wait_many("all, one set", 2, pair, TRUE, 0);
  SetEvent(pair[0]);
  HANDLE mixed[2] = {pair[0], manual};
  SetEvent(manual);
  wait_many("all, auto and manual set", 2, mixed, TRUE, 0);
  wait_one("the auto one after", pair[0], 0);
  wait_one("the manual one after", manual, 0);
  wait_one("the other auto one, untouched", pair[1], 0);

  go = make_event(TRUE, FALSE);
  done = make_event(TRUE, FALSE);
  HANDLE thread = CreateThread(nullptr, 0, waiter, nullptr, 0, nullptr);
  if (thread == nullptr) fail("CreateThread");
  wait_one("the thread, running", thread, 0);
  SetEvent(go);
  HANDLE both[2] = {thread, done};
  wait_many("all, the thread and its event", 2, both, TRUE, INFINITE);
  DWORD code = 0;
  GetExitCodeThread(thread, &code);
  std::printf("the thread's exit code: %lu\n", static_cast<unsigned long>(code));

  HANDLE crt_done = make_event(TRUE, FALSE);
  unsigned crt_id = 0;
  const std::uintptr_t crt = _beginthreadex(nullptr, 0, crt_thread, crt_done, 0, &crt_id);
  if (crt == 0) fail("_beginthreadex");
  HANDLE crt_handle = reinterpret_cast<HANDLE>(crt);  // NOLINT(performance-no-int-to-ptr)
  HANDLE crt_both[2] = {crt_handle, crt_done};
  wait_many("all, the _beginthreadex thread and its event", 2, crt_both, TRUE, INFINITE);
  GetExitCodeThread(crt_handle, &code);
  std::printf("its exit code: %lu, its id: %s\n", static_cast<unsigned long>(code),
              crt_id != 0 ? "set" : "0");
  CloseHandle(crt_handle);
  CloseHandle(crt_done);

  WSAEVENT w = WSACreateEvent();
  if (w == WSA_INVALID_EVENT) fail("WSACreateEvent");
  std::printf("WSAWaitForMultipleEvents (new): %lu\n",
              static_cast<unsigned long>(WSAWaitForMultipleEvents(1, &w, TRUE, 0, FALSE)));
  std::printf("WSASetEvent: %d\n", WSASetEvent(w));
  std::printf("WSAWaitForMultipleEvents (set): %lu\n",
              static_cast<unsigned long>(WSAWaitForMultipleEvents(1, &w, TRUE, 0, FALSE)));
  std::printf("WSAWaitForMultipleEvents (still set, manual): %lu\n",
              static_cast<unsigned long>(WSAWaitForMultipleEvents(1, &w, FALSE, 0, FALSE)));
  std::printf("WSAResetEvent: %d\n", WSAResetEvent(w));
  std::printf("WSAWaitForMultipleEvents (reset): %lu\n",
              static_cast<unsigned long>(WSAWaitForMultipleEvents(1, &w, TRUE, 0, FALSE)));

  wait_many("no handles", 0, pair, FALSE, 0);
  HANDLE twice[2] = {manual, manual};
  if (under_wine()) {
    wine_difference("a wait for all with the same handle twice",
                    "Wine waits; Windows refuses the array (STATUS_INVALID_PARAMETER_MIX, "
                    "ERROR_INVALID_PARAMETER)");
    std::printf("WaitForMultipleObjects (all, the same one twice): %lu error=%lu\n",
                static_cast<unsigned long>(WAIT_FAILED),
                static_cast<unsigned long>(ERROR_INVALID_PARAMETER));
  } else {
    wait_many("all, the same one twice", 2, twice, TRUE, 0);
  }
  SetLastError(0);
  const BOOL set_thread = SetEvent(thread);
  std::printf("SetEvent (a thread): %d error=%lu\n", set_thread,
              static_cast<unsigned long>(GetLastError()));

  std::printf("WSACloseEvent: %d\n", WSACloseEvent(w));
  std::printf("CloseHandle (events, thread): %d %d %d %d %d %d %d\n", CloseHandle(manual),
              CloseHandle(automatic), CloseHandle(pair[0]), CloseHandle(pair[1]), CloseHandle(go),
              CloseHandle(done), CloseHandle(thread));
  wait_one("a closed event", manual, 0);
  return 0;
}
