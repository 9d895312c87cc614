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
  if (!has(mode, file_mode::read) && !has(mode, file_mode::write))
    return make_error_code(error::invalid_argument);
  handle_access::reset(*this);
  std::error_code ec;
  const native_handle_type fd = detail::sys::open_file(path, mode, ec);
  if (ec) return ec;
  handle_access::set_fd(*this, fd, address_family::unspecified, handle_kind::file);
  return {};
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

std::uint64_t file::size(std::error_code& ec) const {
  if ((ec = detail::require_open(native_handle()))) return 0;
  return detail::sys::file_size(native_handle(), ec);
}

}  // namespace proact
