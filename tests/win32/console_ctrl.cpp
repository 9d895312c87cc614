// SetConsoleCtrlHandler over signals, Linux only (Wine has no console to
// send CTRL_C_EVENT to here): SIGINT reaches the handlers as CTRL_C_EVENT on
// a thread of their own, the last added first, until one returns TRUE;
// SIGTERM as CTRL_SHUTDOWN_EVENT; (NULL, TRUE) ignores CTRL_C_EVENT;
// removing a handler that is not there fails; and a signal that no handler
// takes ends the process as the signal does (checked in a child).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "scenario.h"

using namespace scenario;

namespace {

HANDLE called;  // set by the handler that takes the event
std::atomic<int> order{0};
std::atomic<int> first_seen{-1};   // the order the declining handler ran in
std::atomic<int> second_seen{-1};  // the order the taking handler ran in
std::atomic<DWORD> event_seen{999};
std::atomic<DWORD> handler_thread{0};

BOOL WINAPI declines(DWORD) {
  first_seen = order++;
  return FALSE;
}

BOOL WINAPI takes(DWORD type) {
  second_seen = order++;
  event_seen = type;
  handler_thread = GetCurrentThreadId();
  SetEvent(called);
  return TRUE;
}

// Sends the signal and waits (up to 5 s) for the taking handler.
DWORD deliver(int signal_number) {
  order = 0;
  first_seen = second_seen = -1;
  ResetEvent(called);
  ::kill(::getpid(), signal_number);
  return WaitForSingleObject(called, 5000);
}

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", what, ok ? "yes" : "NO");
  if (!ok) std::exit(1);
}

}  // namespace

int main() {
  called = CreateEventA(nullptr, TRUE, FALSE, nullptr);
  if (called == nullptr) fail("CreateEventA");
  // `takes` added first, `declines` last: `declines` runs first.
  check(SetConsoleCtrlHandler(takes, TRUE) != FALSE, "added the handler that takes");
  check(SetConsoleCtrlHandler(declines, TRUE) != FALSE, "added the one that declines");

  check(deliver(SIGINT) == WAIT_OBJECT_0, "SIGINT reached a handler");
  check(event_seen == CTRL_C_EVENT, "as CTRL_C_EVENT");
  check(first_seen == 0 && second_seen == 1, "the last added ran first");
  check(handler_thread != GetCurrentThreadId(), "on a thread of its own");

  check(deliver(SIGTERM) == WAIT_OBJECT_0, "SIGTERM reached a handler");
  check(event_seen == CTRL_SHUTDOWN_EVENT, "as CTRL_SHUTDOWN_EVENT");

  check(SetConsoleCtrlHandler(nullptr, TRUE) != FALSE, "CTRL_C_EVENT ignored");
  check(deliver(SIGINT) == WAIT_TIMEOUT, "SIGINT then reaches no handler");
  check(SetConsoleCtrlHandler(nullptr, FALSE) != FALSE, "CTRL_C_EVENT handled again");
  // The ignored SIGINT's handlers did not run; this one's do.
  check(deliver(SIGINT) == WAIT_OBJECT_0, "SIGINT reaches the handlers again");

  check(SetConsoleCtrlHandler(declines, FALSE) != FALSE, "removed the one that declines");
  SetLastError(0);
  check(
      SetConsoleCtrlHandler(declines, FALSE) == FALSE && GetLastError() == ERROR_INVALID_PARAMETER,
      "removing it again fails with ERROR_INVALID_PARAMETER");

  // With only a declining handler, SIGINT ends the process as SIGINT does.
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child == 0) {
    SetConsoleCtrlHandler(takes, FALSE);
    SetConsoleCtrlHandler(declines, TRUE);
    ::kill(::getpid(), SIGINT);
    ::sleep(5);
    std::_Exit(0);  // not reached
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  check(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT,
        "a signal no handler takes ends the process by that signal");
  return 0;
}
