// Backend selection on Linux: port_options, then PROACT_BACKEND, then the
// default.
//
// An explicit request (options or PROACT_BACKEND) gets that backend or an
// error: io_uring that cannot run here (old kernel, io_uring_disabled sysctl,
// seccomp, missing opcode or feature, or a build without liburing) fails with
// a code that compares equal to errc::backend_unavailable; when the kernel
// refused, its value is the errno that says why.
//
// The default (automatic) is epoll: measured, io_uring is no faster for an
// echo server (docs/benchmarks.md), and epoll runs wherever Linux does, so
// io_uring is opt-in.
//
// PROACT_IO_URING_DISABLE=1 makes io_uring unavailable, as on a machine
// where it is disabled: tests use it to exercise that path.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/backend.hpp"
#include "linux/epoll_backend.hpp"
#include "proact/error.hpp"
#if defined(PROACT_HAVE_IO_URING)
#include "linux/uring_backend.hpp"
#endif

namespace proact::detail {
namespace {

std::error_code create_io_uring_backend(unsigned concurrency, port_backend*& out) {
#if defined(PROACT_HAVE_IO_URING)
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read only; nothing here sets it
  const char* disable = std::getenv("PROACT_IO_URING_DISABLE");
  if (disable != nullptr && *disable != '\0' && std::strcmp(disable, "0") != 0)
    return make_error_code(error::backend_unavailable);
  return create_uring_backend(concurrency, out);
#else
  (void)concurrency;
  (void)out;
  return make_error_code(error::backend_unavailable);  // built without liburing
#endif
}

}  // namespace

unsigned processor_count() noexcept {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

std::error_code create_backend(const port_options& options, port_backend*& out) {
  backend_kind kind = options.backend;
  if (kind == backend_kind::automatic) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read only; nothing here sets it
    if (const char* env = std::getenv("PROACT_BACKEND")) {
      std::error_code ec;
      kind = backend_from_string(env, ec);
      if (ec) return ec;
    }
  }
  const unsigned concurrency = options.concurrency == 0 ? processor_count() : options.concurrency;
  switch (kind) {
    case backend_kind::automatic:  // the default, see above
    case backend_kind::epoll:
      return create_epoll_backend(concurrency, out);
    case backend_kind::io_uring:
      return create_io_uring_backend(concurrency, out);
    case backend_kind::iocp:
      return make_error_code(error::backend_unavailable);
  }
  return make_error_code(error::invalid_argument);
}

}  // namespace proact::detail
