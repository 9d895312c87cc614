// tcp_socket and tcp_listener.
#include <span>
#include <utility>

#include "common/start.hpp"
#include "common/sys.hpp"
#include "proact/file.hpp"
#include "proact/socket.hpp"

namespace proact {

namespace detail {

void release_accept_target(operation& op) noexcept {
  handle_access::release_accept_target(*static_cast<tcp_socket*>(op_access::target(op)));
}

std::error_code associate_accepted(port_backend& backend, operation& op) noexcept {
  auto& peer = *static_cast<tcp_socket*>(op_access::target(op));
  // The peer is the accept's until its completion is out: nobody else
  // associates it meanwhile.
  if (!handle_access::try_claim(peer)) return make_error_code(error::already_associated);
  io_handle* io = nullptr;
  const std::error_code ec = backend.associate(handle_access::fd(peer), handle_kind::tcp_stream,
                                               peer.family(), op_access::accepted_key(op), io);
  handle_access::publish(peer, ec ? nullptr : io);
  if (ec) (void)peer.close();  // a connection the caller cannot use
  return ec;
}

}  // namespace detail

using detail::handle_access;
using detail::handle_kind;
using detail::op_access;
using detail::op_kind;

namespace {

std::error_code open_as(handle& h, address_family family, handle_kind kind) {
  if (family != address_family::ipv4 && family != address_family::ipv6)
    return make_error_code(error::invalid_argument);
  handle_access::reset(h);
  std::error_code ec;
  const native_handle_type fd = kind == handle_kind::tcp_listener
                                    ? detail::sys::open_tcp_listener(family, ec)
                                    : detail::sys::open_tcp_socket(family, ec);
  if (ec) return ec;
  handle_access::set_fd(h, fd, family, kind);
  return {};
}

std::error_code bind_to(const handle& h, const endpoint& local) {
  if (auto ec = detail::require_open(h.native_handle())) return ec;
  if (local.family() != h.family()) return make_error_code(error::invalid_argument);
  return detail::sys::bind(h.native_handle(), local);
}

endpoint name_of(const handle& h, std::error_code& ec, bool remote) {
  if ((ec = detail::require_open(h.native_handle()))) return {};
  return remote ? detail::sys::remote_endpoint(h.native_handle(), ec)
                : detail::sys::local_endpoint(h.native_handle(), ec);
}

}  // namespace

// ---- tcp_socket ------------------------------------------------------------

std::error_code tcp_socket::open(address_family family) {
  return open_as(*this, family, handle_kind::tcp_stream);
}

std::error_code tcp_socket::bind(const endpoint& local) {
  return bind_to(*this, local);
}

std::error_code tcp_socket::connect(operation& op, const endpoint& remote) {
  if (remote.family() == address_family::unspecified || remote.family() != family())
    return is_open() ? make_error_code(error::invalid_argument)
                     : make_error_code(error::bad_handle);
  // The socket itself is the target (see disconnect).
  return detail::start(*this, op, op_kind::connect, &remote,
                       [this](operation& o) { op_access::set_target(o, this, nullptr); });
}

namespace {

std::error_code start_send_file(tcp_socket& s, operation& op, const file& source,
                                std::uint64_t offset, std::size_t count,
                                const send_file_buffers* around) {
  if (!source.is_open()) return make_error_code(error::bad_handle);
  if (count > max_transfer_size) return make_error_code(error::buffer_too_large);
  if (around != nullptr) {
    const const_buffer parts[] = {around->head, around->tail};
    if (auto ec = detail::check_buffers(std::span<const const_buffer>(parts))) return ec;
    if (around->head.size + around->tail.size > max_transfer_size - count)
      return make_error_code(error::buffer_too_large);
  }
  return detail::start(s, op, op_kind::send_file, nullptr, [&](operation& o) {
    op_access::set_target(o, const_cast<file*>(&source), nullptr);
    op_access::set_offset(o, offset);
    op_access::set_send_file(o, count, around);
  });
}

}  // namespace

std::error_code tcp_socket::send_file(operation& op, const file& source, std::uint64_t offset,
                                      std::size_t count) {
  return start_send_file(*this, op, source, offset, count, nullptr);
}

std::error_code tcp_socket::send_file(operation& op, const file& source, std::uint64_t offset,
                                      std::size_t count, const send_file_buffers& around) {
  return start_send_file(*this, op, source, offset, count, &around);
}

std::error_code tcp_socket::shutdown_send() {
  if (detail::io_handle* io = handle_access::io(*this)) return io->backend.shutdown_send(*io);
  if (auto ec = detail::require_open(native_handle())) return ec;
  return detail::sys::shutdown_send(native_handle());
}

std::error_code tcp_socket::disconnect(operation& op) {
  // The socket itself is the target: a backend that must replace the native
  // socket to make it reusable (IOCP) updates the public handle.
  return detail::start(*this, op, op_kind::disconnect, nullptr,
                       [this](operation& o) { op_access::set_target(o, this, nullptr); });
}

std::error_code tcp_socket::set_no_delay(bool on) {
  if (auto ec = detail::require_open(native_handle())) return ec;
  return detail::sys::set_no_delay(native_handle(), on);
}

endpoint tcp_socket::local_endpoint(std::error_code& ec) const {
  return name_of(*this, ec, false);
}

endpoint tcp_socket::remote_endpoint(std::error_code& ec) const {
  return name_of(*this, ec, true);
}

// ---- tcp_listener ----------------------------------------------------------

std::error_code tcp_listener::open(address_family family) {
  return open_as(*this, family, handle_kind::tcp_listener);
}

std::error_code tcp_listener::bind(const endpoint& local) {
  return bind_to(*this, local);
}

std::error_code tcp_listener::listen(int backlog) {
  if (auto ec = detail::require_open(native_handle())) return ec;
  return detail::sys::listen(native_handle(), backlog);
}

std::error_code tcp_listener::listen(const endpoint& local, int backlog) {
  if (auto ec = open(local.family())) return ec;
  if (auto ec = bind(local)) return ec;
  return listen(backlog);
}

std::error_code tcp_listener::accept(operation& op, tcp_socket& peer, endpoint* peer_address) {
  if (static_cast<handle*>(&peer) == static_cast<handle*>(this))
    return make_error_code(error::invalid_argument);
  // One accept at a time into a socket, as AcceptEx refuses a socket that is
  // the target of another one (WSAEINVAL): two would each open it.
  if (!handle_access::claim_as_accept_target(peer)) return make_error_code(error::invalid_argument);
  std::error_code ec;
  if (peer.is_open()) {
    ec = make_error_code(error::invalid_argument);
  } else {
    ec = detail::start(*this, op, op_kind::accept, nullptr, [&](operation& o) {
      handle_access::reset(peer);  // drop a closed socket's old association
      op_access::set_target(o, &peer, peer_address);
      op_access::set_accepted_association(o, associate_accepted_, accepted_key_);
    });
  }
  if (ec) {
    handle_access::release_accept_target(peer);
  } else if (associate_accepted_ && op.completed_at_start() && !op.result().error) {
    // Skip completion on success: the accept is complete, and the caller's
    // again, when the start call returns.
    std::error_code associated = make_error_code(error::bad_handle);
    if (detail::io_handle* io = handle_access::io(*this))
      associated = detail::associate_accepted(io->backend, op);
    else
      (void)peer.close();  // the listener went meanwhile: nowhere to associate it
    op_access::complete_at_start(op, 0, associated);
  }
  return ec;
}

std::error_code tcp_listener::associate_accepted() {
  const detail::io_handle* io = handle_access::io(*this);
  if (io == nullptr) return detail::no_association(*this);
  return associate_accepted(io->key);
}

std::error_code tcp_listener::associate_accepted(std::uintptr_t key) {
  if (handle_access::io(*this) == nullptr) return detail::no_association(*this);
  associate_accepted_ = true;
  accepted_key_ = key;
  return {};
}

endpoint tcp_listener::local_endpoint(std::error_code& ec) const {
  return name_of(*this, ec, false);
}

}  // namespace proact
