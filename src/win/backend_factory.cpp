// create_backend for Windows: IOCP is the only backend. PROACT_BACKEND is
// honoured as on Linux: it picks the backend when the options say automatic.
#include <windows.h>

#include <string_view>
#include <thread>

#include "common/backend.hpp"
#include "iocp_backend.hpp"
#include "proact/error.hpp"

namespace proact::detail {

namespace {

// PROACT_BACKEND, or automatic when unset. GetEnvironmentVariableA rather
// than getenv, which MSVC flags as unsafe.
backend_kind backend_from_environment(std::error_code& ec) noexcept {
  char value[32] = {};
  const DWORD length = GetEnvironmentVariableA("PROACT_BACKEND", value, sizeof(value));
  ec.clear();
  if (length == 0) return backend_kind::automatic;
  if (length >= sizeof(value)) {  // too long to be a backend name
    ec = make_error_code(error::invalid_argument);
    return backend_kind::automatic;
  }
  return backend_from_string(std::string_view(value, length), ec);
}

}  // namespace

std::error_code create_backend(const port_options& options, port_backend*& out) {
  out = nullptr;
  backend_kind kind = options.backend;
  if (kind == backend_kind::automatic) {
    std::error_code ec;
    kind = backend_from_environment(ec);
    if (ec) return ec;
  }
  switch (kind) {
    case backend_kind::automatic:
    case backend_kind::iocp:
      return create_iocp_backend(options, out);
    case backend_kind::epoll:
    case backend_kind::io_uring:
      break;
  }
  return make_error_code(error::backend_unavailable);
}

unsigned processor_count() noexcept {
  const DWORD count = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  if (count != 0) return static_cast<unsigned>(count);
  const unsigned fallback = std::thread::hardware_concurrency();
  return fallback != 0 ? fallback : 1;
}

// The kernel counts a thread that blocks as not running on its port, and as
// running again once it wakes.
void thread_blocks() noexcept {}
void thread_unblocks() noexcept {}

}  // namespace proact::detail
