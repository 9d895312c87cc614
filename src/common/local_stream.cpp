// local_stream.
#include "proact/local_stream.hpp"

#include "common/start.hpp"
#include "common/sys.hpp"

namespace proact {

using detail::handle_access;
using detail::handle_kind;

std::error_code local_stream::pair(local_stream& a, local_stream& b) {
  if (&a == &b || a.is_open() || b.is_open()) return make_error_code(error::invalid_argument);
  native_handle_type first = invalid_native_handle;
  native_handle_type second = invalid_native_handle;
  if (auto ec = detail::sys::open_local_pair(first, second)) return ec;
  handle_access::reset(a);
  handle_access::reset(b);
  handle_access::set_fd(a, first, address_family::unspecified, handle_kind::local_stream);
  handle_access::set_fd(b, second, address_family::unspecified, handle_kind::local_stream);
  return {};
}

std::error_code local_stream::adopt(native_handle_type native) {
  if (native == invalid_native_handle) return make_error_code(error::bad_handle);
  if (std::error_code ec = detail::sys::prepare_local_stream(native)) return ec;
  handle_access::reset(*this);
  handle_access::set_fd(*this, native, address_family::unspecified, handle_kind::local_stream);
  return {};
}

native_handle_type local_stream::release() noexcept {
  if (is_associated()) return invalid_native_handle;  // the port still uses it
  return handle_access::take_fd(*this);
}

}  // namespace proact
