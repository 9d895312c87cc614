// udp_socket.
#include "proact/udp.hpp"

#include "common/start.hpp"
#include "common/sys.hpp"

namespace proact {

using detail::handle_access;
using detail::handle_kind;
using detail::op_access;
using detail::op_kind;

std::error_code udp_socket::open(address_family family) {
  if (family != address_family::ipv4 && family != address_family::ipv6)
    return make_error_code(error::invalid_argument);
  handle_access::reset(*this);
  std::error_code ec;
  const native_handle_type fd = detail::sys::open_udp_socket(family, ec);
  if (ec) return ec;
  handle_access::set_fd(*this, fd, family, handle_kind::udp);
  return {};
}

std::error_code udp_socket::bind(const endpoint& local) {
  if (auto ec = detail::require_open(native_handle())) return ec;
  if (local.family() != family()) return make_error_code(error::invalid_argument);
  return detail::sys::bind(native_handle(), local);
}

std::error_code udp_socket::send_to(operation& op, const_buffer b, const endpoint& remote) {
  return send_to(op, std::span<const const_buffer>(&b, 1), remote);
}

std::error_code udp_socket::send_to(operation& op, std::span<const const_buffer> buffers,
                                    const endpoint& remote) {
  if (auto ec = detail::check_buffers(buffers)) return ec;
  if (remote.family() != family() || remote.family() == address_family::unspecified)
    return is_open() ? make_error_code(error::invalid_argument)
                     : make_error_code(error::bad_handle);
  const bool single = buffers.size() == 1;
  const const_buffer first = buffers.front();
  return detail::start(*this, op, op_kind::send_to, nullptr, [&](operation& o) {
    if (single)
      detail::record_buffer(o, first);  // the caller's one-element span may be a temporary
    else
      detail::record_buffers(o, buffers);
    op_access::set_target(o, nullptr, const_cast<endpoint*>(&remote));
  });
}

std::error_code udp_socket::recv_from(operation& op, buffer b, endpoint* source) {
  return recv_from(op, std::span<const buffer>(&b, 1), source);
}

std::error_code udp_socket::recv_from(operation& op, std::span<const buffer> buffers,
                                      endpoint* source) {
  if (auto ec = detail::check_buffers(buffers)) return ec;
  const bool single = buffers.size() == 1;
  const buffer first = buffers.front();
  return detail::start(*this, op, op_kind::recv_from, nullptr, [&](operation& o) {
    if (single)
      detail::record_buffer(o, first);
    else
      detail::record_buffers(o, buffers);
    op_access::set_target(o, nullptr, source);
  });
}

endpoint udp_socket::local_endpoint(std::error_code& ec) const {
  if ((ec = detail::require_open(native_handle()))) return {};
  return detail::sys::local_endpoint(native_handle(), ec);
}

}  // namespace proact
