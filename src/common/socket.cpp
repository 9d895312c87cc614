// The public handles: argument checks, then the backend of the port the
// handle is associated with.
#include "proact/socket.hpp"

#include <utility>

#include "common/backend.hpp"
#include "common/handle_access.hpp"
#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "proact/error.hpp"

namespace proact {

using detail::handle_access;
using detail::op_access;
using detail::op_kind;

namespace {

// Checks a scatter/gather list before anything is written to an operation.
template <class Buffer>
std::error_code check_buffers(std::span<const Buffer> buffers) noexcept {
  if (buffers.empty() || buffers.size() > max_buffers)
    return make_error_code(error::invalid_argument);
  std::size_t total = 0;
  for (const Buffer& b : buffers) {
    if (b.data == nullptr && b.size != 0) return make_error_code(error::invalid_argument);
    if (b.size > max_transfer_size - total) return make_error_code(error::buffer_too_large);
    total += b.size;
  }
  return {};
}

std::error_code no_association(const handle& h) noexcept {
  return make_error_code(handle_access::fd(h) == invalid_native_handle && !h.is_associated()
                             ? error::bad_handle
                             : error::not_associated);
}

// Claims `op`, records the request, and starts it on the handle's backend.
// `fill` writes the request-specific fields once the operation is ours.
template <class Fill>
std::error_code start(handle& h, operation& op, op_kind kind, const endpoint* remote, Fill&& fill) {
  detail::io_handle* io = handle_access::io(h);
  if (io == nullptr) return no_association(h);
  if (!op_access::try_begin(op)) return make_error_code(error::operation_in_progress);
  op_access::set_kind(op, kind);
  op_access::set_key(op, io->key);
  op_access::set_target(op, nullptr, nullptr);
  fill(op);
  std::error_code ec = io->backend.start(*io, op, remote);
  if (ec) op_access::end(op);
  return ec;
}

}  // namespace

// ---- handle ----------------------------------------------------------------

handle::handle(handle&& other) noexcept
    : fd_(other.fd_.exchange(invalid_native_handle)),
      io_(other.io_.exchange(nullptr)),
      family_(other.family_),
      listener_(other.listener_) {}

handle& handle::operator=(handle&& other) noexcept {
  if (this != &other) {
    reset();
    fd_.store(other.fd_.exchange(invalid_native_handle));
    io_.store(other.io_.exchange(nullptr));
    family_ = other.family_;
    listener_ = other.listener_;
  }
  return *this;
}

handle::~handle() {
  reset();
}

void handle::reset() noexcept {
  handle_access::wait_for_claim(*this);
  if (detail::io_handle* io = io_.exchange(nullptr)) {
    io->backend.release_handle(*io);  // closes the native handle if still open
    fd_.store(invalid_native_handle);
  } else {
    const native_handle_type fd = fd_.exchange(invalid_native_handle);
    if (fd != invalid_native_handle) (void)detail::sys::close(fd);
  }
}

bool handle::is_open() const noexcept {
  if (detail::io_handle* io = handle_access::io(*this)) return io->backend.handle_open(*io);
  return fd_.load(std::memory_order_acquire) != invalid_native_handle;
}

std::error_code handle::open_socket(address_family family, bool listener) {
  if (family != address_family::ipv4 && family != address_family::ipv6)
    return make_error_code(error::invalid_argument);
  reset();
  std::error_code ec;
  const native_handle_type fd = listener ? detail::sys::open_tcp_listener(family, ec)
                                         : detail::sys::open_tcp_socket(family, ec);
  if (ec) return ec;
  handle_access::set_fd(*this, fd, family, listener);
  return {};
}

std::error_code handle::cancel(operation& op) {
  detail::io_handle* io = handle_access::io(*this);
  if (io == nullptr) return no_association(*this);
  return io->backend.cancel(*io, &op);
}

std::error_code handle::cancel() {
  detail::io_handle* io = handle_access::io(*this);
  if (io == nullptr) return no_association(*this);
  return io->backend.cancel(*io, nullptr);
}

std::error_code handle::close() {
  handle_access::wait_for_claim(*this);
  if (detail::io_handle* io = handle_access::io(*this)) {
    fd_.store(invalid_native_handle, std::memory_order_release);
    return io->backend.close_handle(*io);
  }
  const native_handle_type fd = fd_.exchange(invalid_native_handle);
  if (fd == invalid_native_handle) return make_error_code(error::bad_handle);
  return detail::sys::close(fd);
}

// ---- tcp_socket ------------------------------------------------------------

std::error_code tcp_socket::open(address_family family) {
  return open_socket(family, false);
}

std::error_code tcp_socket::bind(const endpoint& local) {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) return make_error_code(error::bad_handle);
  if (local.family() != family()) return make_error_code(error::invalid_argument);
  return detail::sys::bind(fd, local);
}

std::error_code tcp_socket::connect(operation& op, const endpoint& remote) {
  if (remote.family() == address_family::unspecified || remote.family() != family())
    return is_open() ? make_error_code(error::invalid_argument)
                     : make_error_code(error::bad_handle);
  return start(*this, op, op_kind::connect, &remote, [](operation&) {});
}

std::error_code tcp_socket::recv(operation& op, buffer b) {
  if (auto ec = check_buffers(std::span<const buffer>(&b, 1))) return ec;
  return start(*this, op, op_kind::recv, nullptr,
               [&](operation& o) { op_access::set_single_buffer(o, b.data, b.size); });
}

std::error_code tcp_socket::recv(operation& op, std::span<const buffer> buffers) {
  if (auto ec = check_buffers(buffers)) return ec;
  return start(*this, op, op_kind::recv, nullptr,
               [&](operation& o) { op_access::set_buffers(o, buffers.data(), buffers.size()); });
}

std::error_code tcp_socket::send(operation& op, const_buffer b) {
  if (auto ec = check_buffers(std::span<const const_buffer>(&b, 1))) return ec;
  return start(*this, op, op_kind::send, nullptr, [&](operation& o) {
    op_access::set_single_buffer(o, const_cast<void*>(b.data), b.size);
  });
}

std::error_code tcp_socket::send(operation& op, std::span<const const_buffer> buffers) {
  if (auto ec = check_buffers(buffers)) return ec;
  return start(*this, op, op_kind::send, nullptr,
               [&](operation& o) { op_access::set_buffers(o, buffers.data(), buffers.size()); });
}

std::error_code tcp_socket::set_no_delay(bool on) {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) return make_error_code(error::bad_handle);
  return detail::sys::set_no_delay(fd, on);
}

endpoint tcp_socket::local_endpoint(std::error_code& ec) const {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) {
    ec = make_error_code(error::bad_handle);
    return {};
  }
  return detail::sys::local_endpoint(fd, ec);
}

endpoint tcp_socket::remote_endpoint(std::error_code& ec) const {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) {
    ec = make_error_code(error::bad_handle);
    return {};
  }
  return detail::sys::remote_endpoint(fd, ec);
}

// ---- tcp_listener ----------------------------------------------------------

std::error_code tcp_listener::open(address_family family) {
  return open_socket(family, true);
}

std::error_code tcp_listener::bind(const endpoint& local) {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) return make_error_code(error::bad_handle);
  if (local.family() != family()) return make_error_code(error::invalid_argument);
  return detail::sys::bind(fd, local);
}

std::error_code tcp_listener::listen(int backlog) {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) return make_error_code(error::bad_handle);
  return detail::sys::listen(fd, backlog);
}

std::error_code tcp_listener::listen(const endpoint& local, int backlog) {
  if (auto ec = open(local.family())) return ec;
  if (auto ec = bind(local)) return ec;
  return listen(backlog);
}

std::error_code tcp_listener::accept(operation& op, tcp_socket& peer, endpoint* peer_address) {
  if (&peer == static_cast<handle*>(this) || peer.is_open())
    return make_error_code(error::invalid_argument);
  return start(*this, op, op_kind::accept, nullptr, [&](operation& o) {
    handle_access::reset(peer);  // drop a closed socket's old association
    op_access::set_target(o, &peer, peer_address);
  });
}

endpoint tcp_listener::local_endpoint(std::error_code& ec) const {
  const native_handle_type fd = native_handle();
  if (fd == invalid_native_handle) {
    ec = make_error_code(error::bad_handle);
    return {};
  }
  return detail::sys::local_endpoint(fd, ec);
}

}  // namespace proact
