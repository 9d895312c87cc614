// Signals on Windows: console control events through SetConsoleCtrlHandler.
// Ctrl-C and Ctrl-Break are interrupt; closing the console window, logoff
// and shutdown are terminate (Windows ends the process soon after the
// handler returns from those). Nothing raises hangup. The system calls the
// handler on a thread of its own, which reports the arrival directly.
#include <windows.h>

#include <mutex>

#include "common/sys_signal.hpp"
#include "proact/error.hpp"
#include "proact/signal_set.hpp"

namespace proact::detail::sys {
namespace {

constexpr int max_signal = 32;

std::mutex catch_mutex;  // guards the state below
int catch_count[max_signal] = {};
int total_caught = 0;
signal_sink current_sink = nullptr;

int portable_signal(DWORD event) noexcept {
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
      return signal_set::interrupt;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      return signal_set::terminate;
    default:
      return 0;
  }
}

BOOL WINAPI on_console_event(DWORD event) {
  const int signal = portable_signal(event);
  if (signal == 0) return FALSE;
  signal_sink sink = nullptr;
  {
    std::lock_guard lock(catch_mutex);
    if (catch_count[signal] != 0) sink = current_sink;
  }
  if (sink == nullptr) return FALSE;  // not caught: the default action
  sink(signal);
  return TRUE;
}

}  // namespace

std::error_code catch_signal(int signal, signal_sink sink) {
  if (signal <= 0 || signal >= max_signal) return make_error_code(error::invalid_argument);
  std::lock_guard lock(catch_mutex);
  if (total_caught == 0) {
    if (!SetConsoleCtrlHandler(&on_console_event, TRUE))
      return native_error(static_cast<int>(GetLastError()));
    current_sink = sink;
  }
  ++catch_count[signal];
  ++total_caught;
  return {};
}

void release_signal(int signal) noexcept {
  if (signal <= 0 || signal >= max_signal) return;
  std::lock_guard lock(catch_mutex);
  if (catch_count[signal] == 0) return;
  --catch_count[signal];
  if (--total_caught == 0) {
    SetConsoleCtrlHandler(&on_console_event, FALSE);
    current_sink = nullptr;
  }
}

}  // namespace proact::detail::sys
