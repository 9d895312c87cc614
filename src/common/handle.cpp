// handle and stream_handle: what every I/O object shares.
#include "proact/handle.hpp"

#include <utility>

#include "common/start.hpp"
#include "common/sys.hpp"
#include "proact/stream.hpp"

namespace proact {

using detail::handle_access;
using detail::op_kind;

handle::handle(handle&& other) noexcept
    : fd_(other.fd_.exchange(invalid_native_handle)),
      io_(other.io_.exchange(nullptr)),
      family_(other.family_),
      kind_(other.kind_) {}

handle& handle::operator=(handle&& other) noexcept {
  if (this != &other) {
    reset();
    fd_.store(other.fd_.exchange(invalid_native_handle));
    io_.store(other.io_.exchange(nullptr));
    family_ = other.family_;
    kind_ = other.kind_;
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

std::error_code handle::cancel(operation& op) {
  detail::io_handle* io = handle_access::io(*this);
  if (io == nullptr) return detail::no_association(*this);
  return io->backend.cancel(*io, &op);
}

std::error_code handle::cancel() {
  detail::io_handle* io = handle_access::io(*this);
  if (io == nullptr) return detail::no_association(*this);
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

std::error_code handle::skip_completion_on_success() {
  detail::io_handle* io = handle_access::io(*this);
  if (io == nullptr) return detail::no_association(*this);
  return io->backend.skip_completion_on_success(*io);
}

// ---- stream_handle ---------------------------------------------------------------

std::error_code stream_handle::recv(operation& op, buffer b) {
  if (auto ec = detail::check_buffer(b)) return ec;
  return detail::start(*this, op, op_kind::recv, nullptr,
                       [&](operation& o) { detail::record_buffer(o, b); });
}

std::error_code stream_handle::recv(operation& op, std::span<const buffer> buffers) {
  if (auto ec = detail::check_buffers(buffers)) return ec;
  return detail::start(*this, op, op_kind::recv, nullptr,
                       [&](operation& o) { detail::record_buffers(o, buffers); });
}

std::error_code stream_handle::send(operation& op, const_buffer b) {
  if (auto ec = detail::check_buffer(b)) return ec;
  return detail::start(*this, op, op_kind::send, nullptr,
                       [&](operation& o) { detail::record_buffer(o, b); });
}

std::error_code stream_handle::send(operation& op, std::span<const const_buffer> buffers) {
  if (auto ec = detail::check_buffers(buffers)) return ec;
  return detail::start(*this, op, op_kind::send, nullptr,
                       [&](operation& o) { detail::record_buffers(o, buffers); });
}

}  // namespace proact
