// UDP: datagrams to and from any address, IPv4 and IPv6.
#pragma once

#include <span>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/endpoint.hpp"
#include "proact/export.hpp"
#include "proact/handle.hpp"

namespace proact {

class PROACT_API udp_socket : public handle {
 public:
  udp_socket() noexcept = default;

  [[nodiscard]] std::error_code open(address_family family);
  [[nodiscard]] std::error_code bind(const endpoint& local);

  // Sends one datagram to `remote` (which must stay valid until completion);
  // completes with the datagram's size.
  [[nodiscard]] std::error_code send_to(operation& op, const_buffer b, const endpoint& remote);
  [[nodiscard]] std::error_code send_to(operation& op, std::span<const const_buffer> buffers,
                                        const endpoint& remote);

  // Receives one datagram; *source (if given) gets the sender's address. A
  // datagram larger than the buffers completes with errc::message_size and
  // the bytes that fit; the rest of it is discarded. An empty datagram
  // completes with 0 bytes and no error.
  [[nodiscard]] std::error_code recv_from(operation& op, buffer b, endpoint* source = nullptr);
  [[nodiscard]] std::error_code recv_from(operation& op, std::span<const buffer> buffers,
                                          endpoint* source = nullptr);

  endpoint local_endpoint(std::error_code& ec) const;

  // Awaitable forms (see task.hpp); `remote` and *source must outlive the
  // co_await.
  [[nodiscard]] auto send_to(const_buffer b, const endpoint& remote) {
    return detail::io_awaitable(
        *this, [this, b, &remote](operation& op) { return send_to(op, b, remote); });
  }
  [[nodiscard]] auto recv_from(buffer b, endpoint* source = nullptr) {
    return detail::io_awaitable(
        *this, [this, b, source](operation& op) { return recv_from(op, b, source); });
  }
};

}  // namespace proact
