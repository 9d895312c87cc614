// file.
#include "proact/file.hpp"

#include "common/start.hpp"
#include "common/sys.hpp"

namespace proact {

using detail::handle_access;
using detail::handle_kind;
using detail::op_access;
using detail::op_kind;

std::error_code file::open(std::string_view path, file_mode mode) {
  return open(path, mode, default_file_permissions);
}

std::error_code file::open(std::string_view path, file_mode mode, unsigned permissions) {
  if (!has(mode, file_mode::read) && !has(mode, file_mode::write))
    return make_error_code(error::invalid_argument);
  if ((permissions & ~07777u) != 0) return make_error_code(error::invalid_argument);
  handle_access::reset(*this);
  std::error_code ec;
  const native_handle_type fd = detail::sys::open_file(path, mode, permissions, ec);
  if (ec) return ec;
  handle_access::set_fd(*this, fd, address_family::unspecified, handle_kind::file);
  writable_ = has(mode, file_mode::write);
  return {};
}

std::error_code file::adopt(native_handle_type native, file_mode mode) {
  constexpr unsigned access = static_cast<unsigned>(file_mode::read | file_mode::write);
  const auto flags = static_cast<unsigned>(mode);
  if ((flags & ~access) != 0 || (flags & access) == 0)
    return make_error_code(error::invalid_argument);
  if (native == invalid_native_handle) return make_error_code(error::bad_handle);
  if (std::error_code ec = detail::sys::prepare_file(native)) return ec;
  handle_access::reset(*this);
  handle_access::set_fd(*this, native, address_family::unspecified, handle_kind::file);
  writable_ = has(mode, file_mode::write);
  return {};
}

native_handle_type file::release() noexcept {
  if (is_associated()) return invalid_native_handle;  // the port still uses it
  writable_ = false;
  return handle_access::take_fd(*this);
}

std::error_code file::read_at(operation& op, std::uint64_t offset, buffer b) {
  if (auto ec = detail::check_buffer(b)) return ec;
  return detail::start(*this, op, op_kind::read_at, nullptr, [&](operation& o) {
    detail::record_buffer(o, b);
    op_access::set_offset(o, offset);
  });
}

std::error_code file::write_at(operation& op, std::uint64_t offset, const_buffer b) {
  if (auto ec = detail::check_buffer(b)) return ec;
  return detail::start(*this, op, op_kind::write_at, nullptr, [&](operation& o) {
    detail::record_buffer(o, b);
    op_access::set_offset(o, offset);
  });
}

// Windows refuses to flush or resize a handle without write access, Linux
// flushes one: refused here, the same everywhere.
std::error_code file::require_writable() const noexcept {
  if (auto ec = detail::require_open(native_handle())) return ec;
  return writable_ ? std::error_code{} : make_error_code(error::bad_handle);
}

std::error_code file::flush(operation& op, flush_mode what) {
  if (handle_access::io(*this) != nullptr) {
    if (auto ec = require_writable()) return ec;
  }
  return detail::start(*this, op, op_kind::flush, nullptr, [&](operation& o) {
    op_access::set_buffers(o, nullptr, 0);
    op_access::set_flush_data_only(o, what == flush_mode::data);
  });
}

std::uint64_t file::size(std::error_code& ec) const {
  if ((ec = detail::require_open(native_handle()))) return 0;
  return detail::sys::file_size(native_handle(), ec);
}

std::error_code file::size(std::uint64_t& bytes) const {
  std::error_code ec;
  bytes = size(ec);
  return ec;
}

namespace {

// Sizes and offsets are signed 64-bit numbers to every platform.
constexpr std::uint64_t max_file_size = std::uint64_t{1} << 63;

}  // namespace

std::error_code file::set_size(std::uint64_t bytes) {
  if (auto ec = require_writable()) return ec;
  if (bytes >= max_file_size) return make_error_code(error::invalid_argument);
  return detail::sys::set_file_size(native_handle(), bytes);
}

std::error_code file::preallocate(std::uint64_t offset, std::uint64_t length) {
  if (auto ec = require_writable()) return ec;
  if (length == 0 || offset >= max_file_size || length >= max_file_size - offset)
    return make_error_code(error::invalid_argument);
  return detail::sys::preallocate_file(native_handle(), offset, length);
}

}  // namespace proact
