// stream_handle: the byte-stream operations shared by TCP sockets and local
// streams.
#pragma once

#include <span>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/buffer_pool.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/export.hpp"
#include "proact/handle.hpp"

namespace proact {

class PROACT_API stream_handle : public handle {
 public:
  // Completes as soon as any bytes arrived (bytes = count), or with 0 bytes
  // and errc::eof after the peer's orderly shutdown. A recv whose buffers are
  // all empty completes with 0 bytes and no error once data is readable,
  // consuming nothing (errc::eof at end of stream).
  [[nodiscard]] std::error_code recv(operation& op, buffer b);
  [[nodiscard]] std::error_code recv(operation& op, std::span<const buffer> buffers);
  // Pooled recv: like recv, into a buffer taken from `pool` when data
  // arrives, none held while it waits. Completes with the count and the
  // buffer in op.pooled() (the caller's until pool.release(id)); with 0
  // bytes, errc::eof and no buffer after the peer's orderly shutdown; with
  // 0 bytes, errc::pool_empty and no buffer when the pool had none to give,
  // consuming nothing (a later recv gets the data). Never completes at
  // start, even with skip_completion_on_success(). The pool must be open
  // and belong to this handle's port (invalid_argument otherwise).
  [[nodiscard]] std::error_code recv_pooled(operation& op, buffer_pool& pool);
  // Completes once every byte was handed to the kernel, or with an error and
  // the count that went. Sends reach the peer in the order they were started.
  [[nodiscard]] std::error_code send(operation& op, const_buffer b);
  [[nodiscard]] std::error_code send(operation& op, std::span<const const_buffer> buffers);

  // Awaitable forms, for a handle associated with a loop (see task.hpp):
  //   auto [ec, n] = co_await s.recv(buf);
  [[nodiscard]] auto recv(buffer b) {
    return detail::io_awaitable(*this, [this, b](operation& op) { return recv(op, b); });
  }
  [[nodiscard]] auto recv(std::span<const buffer> buffers) {
    return detail::io_awaitable(*this,
                                [this, buffers](operation& op) { return recv(op, buffers); });
  }
  //   auto [ec, n, buf] = co_await s.recv_pooled(pool);
  [[nodiscard]] auto recv_pooled(buffer_pool& pool) {
    return detail::pooled_recv_awaitable(
        *this, [this, &pool](operation& op) { return recv_pooled(op, pool); });
  }
  [[nodiscard]] auto send(const_buffer b) {
    return detail::io_awaitable(*this, [this, b](operation& op) { return send(op, b); });
  }
  [[nodiscard]] auto send(std::span<const const_buffer> buffers) {
    return detail::io_awaitable(*this,
                                [this, buffers](operation& op) { return send(op, buffers); });
  }

 protected:
  stream_handle() noexcept = default;
};

}  // namespace proact
