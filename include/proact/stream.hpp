// stream_handle: the byte-stream operations shared by TCP sockets and local
// streams.
#pragma once

#include <span>
#include <system_error>

#include "proact/buffer.hpp"
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
