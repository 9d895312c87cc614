#include "service_platform.hpp"

#include <atomic>

#include "proact/signal_set.hpp"

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winsock2.h>
#else
#include <netdb.h>
#include <signal.h>
#include <unistd.h>
#endif

namespace proact_test {

namespace {
std::atomic<int> fallback_count{0};
}  // namespace

#if defined(_WIN32)

std::vector<std::pair<std::error_code, proact::errc>> native_resolver_failures() {
  const auto& c = proact::resolver_category();
  return {{{WSAHOST_NOT_FOUND, c}, proact::errc::host_not_found},
          {{WSANO_DATA, c}, proact::errc::host_not_found},
          {{WSATRY_AGAIN, c}, proact::errc::try_again},
          {{WSATYPE_NOT_FOUND, c}, proact::errc::service_not_found}};
}

bool raise_signal(int signal, std::string& why) {
  if (signal != proact::signal_set::interrupt) {
    why = "Windows has no way for a program to raise this console event itself";
    return false;
  }
  // Ctrl-C may be disabled for this process (a new process group): enable it.
  SetConsoleCtrlHandler(nullptr, FALSE);
  if (GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) return true;
  const DWORD first = GetLastError();
  // No console (a test runner's pipes): try one of our own.
  if (AllocConsole() && GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) return true;
  why =
      "cannot raise a console control event: GenerateConsoleCtrlEvent(CTRL_C_EVENT) failed with "
      "Win32 error " +
      std::to_string(first) + " and AllocConsole/GenerateConsoleCtrlEvent with " +
      std::to_string(GetLastError()) +
      " (under Wine without a console; the README proxy test stops the proxy with SIGINT, "
      "which Wine turns into Ctrl-C)";
  return false;
}

namespace {
BOOL WINAPI fallback(DWORD) {
  fallback_count.fetch_add(1);
  return TRUE;
}
}  // namespace

fallback_signal_handlers::fallback_signal_handlers() {
  fallback_count.store(0);
  SetConsoleCtrlHandler(&fallback, TRUE);
}
fallback_signal_handlers::~fallback_signal_handlers() {
  SetConsoleCtrlHandler(&fallback, FALSE);
}

#else

std::vector<std::pair<std::error_code, proact::errc>> native_resolver_failures() {
  const auto& c = proact::resolver_category();
  return {{{EAI_NONAME, c}, proact::errc::host_not_found},
          {{EAI_AGAIN, c}, proact::errc::try_again},
          {{EAI_SERVICE, c}, proact::errc::service_not_found}};
}

bool raise_signal(int signal, std::string&) {
  return ::kill(::getpid(), signal) == 0;
}

namespace {
constexpr int test_signals[] = {SIGHUP, SIGINT, SIGTERM};
struct sigaction saved[3];
extern "C" void fallback(int) {
  fallback_count.fetch_add(1);
}
}  // namespace

fallback_signal_handlers::fallback_signal_handlers() {
  fallback_count.store(0);
  for (int i = 0; i < 3; ++i) {
    struct sigaction action {};
    action.sa_handler = &fallback;
    sigemptyset(&action.sa_mask);
    ::sigaction(test_signals[i], &action, &saved[i]);
  }
}
fallback_signal_handlers::~fallback_signal_handlers() {
  for (int i = 0; i < 3; ++i) ::sigaction(test_signals[i], &saved[i], nullptr);
}

#endif

int fallback_signal_handlers::uncaught() const noexcept {
  return fallback_count.load();
}

}  // namespace proact_test
