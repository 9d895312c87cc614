// The io_uring backend: IOCP completion semantics over native Linux
// completions.
//
// Every operation becomes an SQE on one ring per port (accept, connect,
// recv/send, recvmsg/sendmsg for scatter/gather and UDP, read/write at an
// offset for files). Per socket, one FIFO for recv/accept/recv_from and one
// for send/connect/send_to/send_file/disconnect hold the started operations;
// only the head of each is in the kernel, so several recvs fill in start
// order and the rest of a short send goes out before the next send (contract
// item 3). A file's operations all go to the kernel at once (no order).
// What io_uring has no opcode for (sendfile, the steps of a disconnect) is
// done with non-blocking calls between POLL_ADD waits (uring_ops.hpp).
// Completions go to the completion_engine, shared with the epoll backend,
// which provides the FIFO port queue, LIFO release, the concurrency value and
// leader/follower polling: the waiting thread that polls blocks in
// io_uring_enter.
#pragma once

#include <system_error>

#include "common/backend.hpp"

namespace proact::detail {

// Creates an io_uring backend. When io_uring cannot run here (old kernel,
// io_uring_disabled sysctl, seccomp, missing opcode or feature) the error
// compares equal to errc::backend_unavailable and its value is the errno
// that says why.
std::error_code create_uring_backend(unsigned concurrency, port_backend*& out);

}  // namespace proact::detail
