// Handles: the I/O objects that operations run on. A handle is opened, then
// associated with exactly one port; its operations then complete on that port
// with the handle's completion key.
//
// Lifetime: an operation's buffers (and, for scatter/gather, the span of
// buffers itself) must stay valid until its completion is dequeued. close()
// completes every pending operation with errc::operation_aborted. Destroying
// a handle closes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/detail/config.hpp"
#include "proact/endpoint.hpp"
#include "proact/operation.hpp"

namespace proact {

namespace detail {
class io_handle;
struct handle_access;
}  // namespace detail

class handle {
 public:
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  handle(handle&& other) noexcept;
  handle& operator=(handle&& other) noexcept;
  ~handle();

  bool is_open() const noexcept;
  bool is_associated() const noexcept { return io_.load(std::memory_order_acquire) != nullptr; }
  native_handle_type native_handle() const noexcept { return fd_.load(std::memory_order_acquire); }
  address_family family() const noexcept { return family_; }

  // Cancels one pending operation of this handle: it completes with
  // errc::operation_aborted. errc::not_found if it is not pending here
  // (already completed, never started, or another handle's).
  std::error_code cancel(operation& op);
  // Cancels every pending operation of this handle; not_found if there was none.
  std::error_code cancel();
  // Closes the handle; pending operations complete with operation_aborted.
  std::error_code close();

 protected:
  handle() noexcept = default;
  std::error_code open_socket(address_family family, bool listener);

 private:
  friend struct detail::handle_access;
  void reset() noexcept;

  std::atomic<native_handle_type> fd_{invalid_native_handle};
  std::atomic<detail::io_handle*> io_{nullptr};
  address_family family_ = address_family::unspecified;
  bool listener_ = false;
};

class tcp_socket : public handle {
 public:
  tcp_socket() noexcept = default;

  std::error_code open(address_family family);
  std::error_code bind(const endpoint& local);

  // Connects; the socket must be open and associated. Completes with 0 bytes.
  std::error_code connect(operation& op, const endpoint& remote);

  // Completes as soon as any bytes arrived (bytes = count), or with 0 bytes
  // and errc::eof after the peer's orderly shutdown.
  std::error_code recv(operation& op, buffer b);
  std::error_code recv(operation& op, std::span<const buffer> buffers);
  // Completes once every byte was handed to the kernel, or with an error and
  // the count that went.
  std::error_code send(operation& op, const_buffer b);
  std::error_code send(operation& op, std::span<const const_buffer> buffers);

  std::error_code set_no_delay(bool on);
  endpoint local_endpoint(std::error_code& ec) const;
  endpoint remote_endpoint(std::error_code& ec) const;
};

class tcp_listener : public handle {
 public:
  static constexpr int default_backlog = 1024;

  tcp_listener() noexcept = default;

  std::error_code open(address_family family);  // address reuse enabled
  std::error_code bind(const endpoint& local);
  std::error_code listen(int backlog = default_backlog);
  // open + bind + listen in one call.
  std::error_code listen(const endpoint& local, int backlog = default_backlog);

  // Accepts one connection into `peer`, which must not be open. On success
  // `peer` holds the connected (unassociated) socket and, if given,
  // *peer_address the remote address. Both must stay valid until completion.
  std::error_code accept(operation& op, tcp_socket& peer, endpoint* peer_address = nullptr);

  endpoint local_endpoint(std::error_code& ec) const;
};

}  // namespace proact
