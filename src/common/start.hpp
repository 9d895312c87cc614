// The one path every operation takes from a public start call to a backend:
// argument checks that touch nothing, claiming the operation, recording the
// request, and the backend's start.
#pragma once

#include <span>
#include <system_error>

#include "common/backend.hpp"
#include "common/handle_access.hpp"
#include "common/op_access.hpp"
#include "proact/buffer.hpp"
#include "proact/error.hpp"
#include "proact/handle.hpp"

namespace proact::detail {

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

inline std::error_code check_buffer(const_buffer b) noexcept {
  return check_buffers(std::span<const const_buffer>(&b, 1));
}

// Why a handle without an association cannot start anything.
inline std::error_code no_association(const handle& h) noexcept {
  return make_error_code(handle_access::fd(h) == invalid_native_handle && !h.is_associated()
                             ? error::bad_handle
                             : error::not_associated);
}

// Claims `op`, records the request, and starts it on the handle's backend.
// `fill` writes the request-specific fields once the operation is ours.
template <class Fill>
std::error_code start(handle& h, operation& op, op_kind kind, const endpoint* remote, Fill&& fill) {
  io_handle* io = handle_access::io(h);
  if (io == nullptr) return no_association(h);
  if (!op_access::try_begin(op)) return make_error_code(error::operation_in_progress);
  op_access::set_kind(op, kind);
  op_access::set_key(op, io->key);
  op_access::set_target(op, nullptr, nullptr);
  op_access::set_pooled_id(op, pooled_buffer::none);
  op_access::clear_completed_at_start(op);
  fill(op);
  std::error_code ec = io->backend.start(*io, op, remote);
  if (ec) op_access::abandon(op);
  return ec;
}

template <class Buffer>
void record_buffers(operation& op, std::span<const Buffer> buffers) noexcept {
  op_access::set_buffers(op, buffers.data(), buffers.size());
}
inline void record_buffer(operation& op, const_buffer b) noexcept {
  op_access::set_single_buffer(op, const_cast<void*>(b.data), b.size);
}

// For calls that need the open native handle (bind, options, addresses).
inline std::error_code require_open(native_handle_type fd) noexcept {
  return fd == invalid_native_handle ? make_error_code(error::bad_handle) : std::error_code{};
}

}  // namespace proact::detail
