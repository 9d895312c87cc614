// SetConsoleCtrlHandler over POSIX signals: SIGINT is CTRL_C_EVENT, SIGQUIT
// CTRL_BREAK_EVENT, SIGHUP CTRL_CLOSE_EVENT, SIGTERM CTRL_SHUTDOWN_EVENT.
//
// As on Windows, the handlers do not run in the signal's context but on a
// thread of their own: the signal handler only writes the signal's number to
// a pipe that this thread reads. It calls the handlers, the last added
// first, until one returns TRUE; when none does, the signal's default action
// is restored and the signal raised again, so the process ends as it would
// have without handlers (and its exit status says so). A child made by
// fork() starts with none.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <iterator>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "status.hpp"

namespace proact::win32 {
namespace {

constexpr int console_signals[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM};

DWORD event_of(int signal_number) noexcept {
  switch (signal_number) {
    case SIGINT:
      return CTRL_C_EVENT;
    case SIGQUIT:
      return CTRL_BREAK_EVENT;
    case SIGHUP:
      return CTRL_CLOSE_EVENT;
    default:
      return CTRL_SHUTDOWN_EVENT;
  }
}

struct console_state {
  std::mutex mutex;
  std::vector<PHANDLER_ROUTINE> handlers;  // in the order added
  bool ignore_ctrl_c = false;
  bool installed = false;
  int read_end = -1;
};

// Never destroyed: the dispatching thread may use it until the process ends.
console_state& state() {
  static auto* s = new console_state;  // NOLINT(cppcoreguidelines-owning-memory)
  return *s;
}

// Written by the signal handler, which may use nothing else.
volatile sig_atomic_t write_end = -1;

void on_signal(int signal_number) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const ssize_t n = ::write(write_end, &byte, 1);
  errno = saved;
}

void dispatch(int read_end) {
  console_state& s = state();
  for (;;) {
    unsigned char byte = 0;
    const ssize_t n = ::read(read_end, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    const int signal_number = byte;
    const DWORD event = event_of(signal_number);
    std::vector<PHANDLER_ROUTINE> handlers;
    {
      std::lock_guard lock(s.mutex);
      if (event == CTRL_C_EVENT && s.ignore_ctrl_c) continue;
      handlers = s.handlers;
    }
    bool handled = false;
    for (auto it = handlers.rbegin(); it != handlers.rend() && !handled; ++it)
      handled = (*it)(event) != FALSE;
    if (handled) continue;
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
  }
}

// fork() copies neither the dispatching thread nor a consistent lock: the
// child starts with no handlers and the signals' default actions.
void before_fork() {
  state().mutex.lock();
}
void after_fork_in_parent() {
  state().mutex.unlock();
}
void after_fork_in_child() {
  console_state& s = state();
  if (s.installed) {
    for (const int signal_number : console_signals) ::signal(signal_number, SIG_DFL);
    ::close(s.read_end);
    ::close(write_end);
    s.read_end = -1;
    write_end = -1;
    s.installed = false;
  }
  s.handlers.clear();
  s.ignore_ctrl_c = false;
  s.mutex.unlock();
}

// The pipe, the signal handlers and the dispatching thread, once. Caller
// holds the state's lock.
DWORD install_locked(console_state& s) {
  if (s.installed) return 0;
  static const bool fork_handled =
      ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child) == 0;
  if (!fork_handled) return ERROR_NOT_ENOUGH_MEMORY;
  int ends[2] = {-1, -1};
  if (::pipe2(ends, O_CLOEXEC) != 0) return ERROR_NOT_ENOUGH_MEMORY;
  try {
    std::thread(dispatch, ends[0]).detach();
  } catch (const std::system_error&) {
    ::close(ends[0]);
    ::close(ends[1]);
    return ERROR_NOT_ENOUGH_MEMORY;
  }
  s.read_end = ends[0];
  write_end = ends[1];
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (const int signal_number : console_signals) ::sigaction(signal_number, &action, nullptr);
  s.installed = true;
  return 0;
}

}  // namespace
}  // namespace proact::win32

using namespace proact::win32;

BOOL WINAPI SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine, BOOL Add) {
  console_state& s = state();
  std::lock_guard lock(s.mutex);
  if (HandlerRoutine == nullptr) {
    s.ignore_ctrl_c = Add != FALSE;
    if (const DWORD error = install_locked(s); error != 0) return fail_win32(error);
    return TRUE;
  }
  if (Add != FALSE) {
    if (const DWORD error = install_locked(s); error != 0) return fail_win32(error);
    s.handlers.push_back(HandlerRoutine);
    return TRUE;
  }
  for (auto it = s.handlers.rbegin(); it != s.handlers.rend(); ++it) {
    if (*it == HandlerRoutine) {
      s.handlers.erase(std::next(it).base());
      return TRUE;
    }
  }
  return fail_win32(ERROR_INVALID_PARAMETER);
}
