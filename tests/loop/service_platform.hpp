// What the resolver and signal tests need to know about the platform, kept
// here (like tests/conformance/platform.hpp) so that the tests themselves use
// the public proact API only.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "proact/error.hpp"

namespace proact_test {

// The platform's native name-resolution failures (EAI_* in
// proact::resolver_category(), or Winsock codes) with the portable
// condition each must compare equal to.
std::vector<std::pair<std::error_code, proact::errc>> native_resolver_failures();

// Raises the portable signal in this process the way the platform does
// (kill(getpid(), ...) on POSIX; a console control event on Windows). False,
// with `why`, where the platform cannot raise it from inside the process.
bool raise_signal(int signal, std::string& why);

// Windows: a test that raises a console control event runs in a child
// process of this executable with a console of its own (CREATE_NEW_CONSOLE):
// the event then reaches no other process (GenerateConsoleCtrlEvent reaches
// every process of a console), and it works where this process has no
// usable console (under Wine, run from a test runner). True in the parent;
// false on POSIX and in the child.
bool raise_signals_in_child();
// Runs the test `name` ("Suite.Case") in such a child, on `backend`; success
// if it passed there (its output is in the failure message otherwise), or if
// it skipped there: then `skipped` is set, with the child's output in `why`.
::testing::AssertionResult run_test_in_child(const std::string& name, const std::string& backend,
                                             bool& skipped, std::string& why);

// Runs the test `name` ("Suite.Case") on `backend` in a child process of this
// executable that sees `hosts` as its hosts file (/etc/hosts bound over in a
// private mount namespace), with PROACT_TEST_PRIVATE_HOSTS set in its
// environment. Success if it passed there. `skipped`, with `why`, where this
// process cannot give a child hosts data of its own (no privilege for a
// mount namespace; Windows, whose hosts file is the machine's).
::testing::AssertionResult run_test_with_hosts(const std::string& name, const std::string& backend,
                                               const std::string& hosts, bool& skipped,
                                               std::string& why);
// True in that child.
bool in_private_hosts_child();

// While it exists, the signals a test raises have a fallback handler that
// only counts them, so a signal that proact failed to catch fails the test
// instead of ending the test process.
class fallback_signal_handlers {
 public:
  fallback_signal_handlers();
  ~fallback_signal_handlers();
  fallback_signal_handlers(const fallback_signal_handlers&) = delete;
  fallback_signal_handlers& operator=(const fallback_signal_handlers&) = delete;
  // Signals the fallback received (proact did not catch them).
  int uncaught() const noexcept;
};

}  // namespace proact_test
