// Backend selection on Linux: port_options, then PROACT_BACKEND, then the
// default (epoll).
#include <unistd.h>

#include <cstdlib>

#include "common/backend.hpp"
#include "linux/epoll_backend.hpp"
#include "proact/error.hpp"

namespace proact::detail {

unsigned processor_count() noexcept {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

std::error_code create_backend(const port_options& options, port_backend*& out) {
  backend_kind kind = options.backend;
  if (kind == backend_kind::automatic) {
    // Read once per port; nothing in proact writes the environment.
    if (const char* env = std::getenv("PROACT_BACKEND")) {  // NOLINT(concurrency-mt-unsafe)
      std::error_code ec;
      kind = backend_from_string(env, ec);
      if (ec) return ec;
    }
  }
  const unsigned concurrency = options.concurrency == 0 ? processor_count() : options.concurrency;
  switch (kind) {
    case backend_kind::automatic:
    case backend_kind::epoll:
      return create_epoll_backend(concurrency, out);
    case backend_kind::io_uring:
    case backend_kind::iocp:
      return make_error_code(error::backend_unavailable);
  }
  return make_error_code(error::invalid_argument);
}

}  // namespace proact::detail
