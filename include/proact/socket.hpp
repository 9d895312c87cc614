// TCP: tcp_socket (connect, recv/send, send_file, shutdown, disconnect) and
// tcp_listener (accept), IPv4 and IPv6.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "proact/endpoint.hpp"
#include "proact/export.hpp"
#include "proact/handle.hpp"
#include "proact/stream.hpp"

namespace proact {

class file;

// What a send_file sends around the file's range, in the same operation
// (TransmitFile's TRANSMIT_FILE_BUFFERS): `head` right before it, `tail`
// right after it. Either may be empty. An HTTP server puts its response
// head here, so that it leaves in the same segment as the file's first bytes.
struct send_file_buffers {
  const_buffer head;
  const_buffer tail;
};

class PROACT_API tcp_socket : public stream_handle {
 public:
  tcp_socket() noexcept = default;

  [[nodiscard]] std::error_code open(address_family family);
  [[nodiscard]] std::error_code bind(const endpoint& local);

  // Connects; the socket must be open and associated. Completes with 0 bytes.
  [[nodiscard]] std::error_code connect(operation& op, const endpoint& remote);

  // Sends `count` bytes of `source` starting at `offset`, after the sends
  // started before it; completes when the whole range went (bytes = count),
  // with errc::eof and the bytes sent if the file ends first, or with an
  // error and the bytes sent. `source` must stay open until completion.
  [[nodiscard]] std::error_code send_file(operation& op, const file& source, std::uint64_t offset,
                                          std::size_t count);
  // The same with a head sent before the range and a tail after it; bytes
  // count all three. If the file ends first, the tail still goes and the
  // completion is errc::eof with every byte sent. `around` itself and the
  // bytes it points to must stay valid until completion (like a gather
  // send's array). Together they may be at most max_transfer_size bytes
  // (buffer_too_large otherwise).
  [[nodiscard]] std::error_code send_file(operation& op, const file& source, std::uint64_t offset,
                                          std::size_t count, const send_file_buffers& around);

  // Ends the send side (the peer reads eof) once every send started before
  // this call has been handed to the kernel. Receiving continues.
  [[nodiscard]] std::error_code shutdown_send();

  // DisconnectEx semantics: once the sends started before it went, ends the
  // connection gracefully (the peer reads eof) and completes with 0 bytes.
  // Pending recvs complete with operation_aborted. Afterwards the socket is
  // open, associated with the same port and key, and not connected: connect
  // it again or close it.
  [[nodiscard]] std::error_code disconnect(operation& op);

  [[nodiscard]] std::error_code set_no_delay(bool on);
  endpoint local_endpoint(std::error_code& ec) const;
  endpoint remote_endpoint(std::error_code& ec) const;

  // Awaitable forms (see task.hpp). The endpoint and file must outlive the
  // co_await.
  [[nodiscard]] auto connect(const endpoint& remote) {
    return detail::io_awaitable(*this,
                                [this, &remote](operation& op) { return connect(op, remote); });
  }
  [[nodiscard]] auto send_file(const file& source, std::uint64_t offset, std::size_t count) {
    return detail::io_awaitable(*this, [this, &source, offset, count](operation& op) {
      return send_file(op, source, offset, count);
    });
  }
  // `around` is copied; the bytes it points to must outlive the co_await.
  [[nodiscard]] auto send_file(const file& source, std::uint64_t offset, std::size_t count,
                               send_file_buffers around) {
    return detail::io_awaitable(*this, [this, &source, offset, count, around](operation& op) {
      return send_file(op, source, offset, count, around);
    });
  }
  [[nodiscard]] auto disconnect() {
    return detail::io_awaitable(*this, [this](operation& op) { return disconnect(op); });
  }
};

class PROACT_API tcp_listener : public handle {
 public:
  static constexpr int default_backlog = 1024;

  tcp_listener() noexcept = default;

  [[nodiscard]] std::error_code open(address_family family);  // address reuse enabled
  [[nodiscard]] std::error_code bind(const endpoint& local);
  [[nodiscard]] std::error_code listen(int backlog = default_backlog);
  // open + bind + listen in one call.
  [[nodiscard]] std::error_code listen(const endpoint& local, int backlog = default_backlog);

  // Accepts one connection into `peer`, which must not be open. On success
  // `peer` holds the connected (unassociated) socket and, if given,
  // *peer_address the remote address. Both must stay valid until completion.
  [[nodiscard]] std::error_code accept(operation& op, tcp_socket& peer,
                                       endpoint* peer_address = nullptr);

  endpoint local_endpoint(std::error_code& ec) const;

  // Opt-in: each accept started from now on also associates the socket it
  // accepts with this listener's port, with the listener's key (or `key`),
  // before its completion is delivered; on a loop the peer is then ready to
  // be awaited on. Should that association fail, the accept completes with
  // its error and the connection is closed. The listener must be
  // associated (not_associated otherwise).
  [[nodiscard]] std::error_code associate_accepted();
  [[nodiscard]] std::error_code associate_accepted(std::uintptr_t key);

  // Awaitable form (see task.hpp): co_await listener.accept(peer).
  [[nodiscard]] auto accept(tcp_socket& peer, endpoint* peer_address = nullptr) {
    return detail::io_awaitable(*this, [this, &peer, peer_address](operation& op) {
      return accept(op, peer, peer_address);
    });
  }

 private:
  bool associate_accepted_ = false;
  std::uintptr_t accepted_key_ = 0;
};

}  // namespace proact
