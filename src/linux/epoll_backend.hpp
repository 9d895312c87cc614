// The epoll backend: IOCP completion semantics emulated over epoll readiness.
//
// Each associated socket is registered once, edge-triggered, for input and
// output. An operation is first tried with a non-blocking syscall; only if
// that would block is it queued on its socket (one FIFO for recv/accept, one
// for send/connect, so per-socket order holds) and retried when epoll reports
// readiness. Completions go to the completion_engine, which provides the FIFO
// port queue, LIFO release, the concurrency value and leader/follower polling.
#pragma once

#include <system_error>

#include "common/backend.hpp"

namespace proact::detail {

// Creates an epoll backend; errors if epoll or eventfd cannot be created.
std::error_code create_epoll_backend(unsigned concurrency, port_backend*& out);

}  // namespace proact::detail
