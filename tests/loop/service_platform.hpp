// What the resolver and signal tests need to know about the platform, kept
// here (like tests/conformance/platform.hpp) so that the tests themselves use
// the public proact API only.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <vector>

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
