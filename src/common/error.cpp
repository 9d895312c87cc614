#include "proact/error.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "common/native_error.hpp"

namespace proact {
namespace detail {

int generic_condition(int code) noexcept {
  switch (code) {
    case ECANCELED:
      return static_cast<int>(errc::operation_aborted);
    case ECONNRESET:
    case EPIPE:
      return static_cast<int>(errc::connection_reset);
    case ECONNREFUSED:
      return static_cast<int>(errc::connection_refused);
    case ECONNABORTED:
      return static_cast<int>(errc::connection_aborted);
    case ETIMEDOUT:
      return static_cast<int>(errc::timed_out);
    case ENOENT:
      return static_cast<int>(errc::not_found);
    case EINPROGRESS:
    case EALREADY:
      return static_cast<int>(errc::operation_in_progress);
    case EINVAL:
      return static_cast<int>(errc::invalid_argument);
    case EMSGSIZE:
      return static_cast<int>(errc::message_size);
    case EADDRINUSE:
      return static_cast<int>(errc::address_in_use);
    case EADDRNOTAVAIL:
      return static_cast<int>(errc::address_not_available);
    case EBADF:
    case ENOTSOCK:
      return static_cast<int>(errc::bad_handle);
    case ENETUNREACH:
    case ENETDOWN:
      return static_cast<int>(errc::network_unreachable);
    case EHOSTUNREACH:
      return static_cast<int>(errc::host_unreachable);
    case ENOTCONN:
      return static_cast<int>(errc::not_connected);
    case EISCONN:
      return static_cast<int>(errc::already_connected);
    case EEXIST:
      return static_cast<int>(errc::file_exists);
    case EOPNOTSUPP:  // == ENOTSUP on Linux
      return static_cast<int>(errc::operation_not_supported);
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
      return static_cast<int>(errc::no_resources);
    default:
      return 0;
  }
}

}  // namespace detail

namespace {

class condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "proact"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::operation_aborted:
        return "operation aborted";
      case errc::eof:
        return "end of file";
      case errc::connection_reset:
        return "connection reset by peer";
      case errc::connection_refused:
        return "connection refused";
      case errc::connection_aborted:
        return "connection aborted";
      case errc::timed_out:
        return "timed out";
      case errc::port_closed:
        return "port closed";
      case errc::not_found:
        return "no such pending operation";
      case errc::already_associated:
        return "handle already associated with a port";
      case errc::not_associated:
        return "handle not associated with a port";
      case errc::not_on_loop:
        return "handle associated with a port, not with a loop";
      case errc::operation_in_progress:
        return "operation already in progress";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::message_size:
        return "message too long";
      case errc::address_in_use:
        return "address in use";
      case errc::address_not_available:
        return "address not available";
      case errc::bad_handle:
        return "bad handle";
      case errc::network_unreachable:
        return "network unreachable";
      case errc::host_unreachable:
        return "host unreachable";
      case errc::not_connected:
        return "not connected";
      case errc::buffer_too_large:
        return "buffer larger than proact::max_transfer_size";
      case errc::backend_unavailable:
        return "backend not available";
      case errc::no_resources:
        return "out of resources";
      case errc::already_connected:
        return "already connected";
      case errc::shut_down:
        return "send side shut down";
      case errc::host_not_found:
        return "host not found";
      case errc::try_again:
        return "temporary failure in name resolution; try again";
      case errc::service_not_found:
        return "service not found";
      case errc::file_exists:
        return "file exists";
      case errc::operation_not_supported:
        return "operation not supported";
      case errc::tls_handshake_failed:
        return "TLS handshake failed";
      case errc::tls_verification_failed:
        return "TLS certificate verification failed";
      case errc::tls_truncated:
        return "TLS stream truncated (no close_notify before the end)";
      case errc::pool_empty:
        return "buffer pool empty";
    }
    return "unknown proact condition";
  }
  bool equivalent(const std::error_code& code, int condition) const noexcept override {
    if (code.category() == *this) return code.value() == condition;
    if (code.category() == library_category())
      return library_category().default_error_condition(code.value()) ==
             std::error_condition(condition, *this);
    if (code.category() == native_category())
      return detail::native_condition(code.value()) == condition;
    if (is_generic(code.category())) return detail::generic_condition(code.value()) == condition;
    return false;
  }

 private:
  // A program that uses proact as a DLL, each with its own copy of the C++
  // library (MinGW's static libstdc++), has a generic_category object of its
  // own: its std::errc codes are recognised by the category's name.
  static bool is_generic(const std::error_category& c) noexcept {
    return c == std::generic_category() || std::strcmp(c.name(), "generic") == 0;
  }
};

class library_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "proact.library"; }
  std::string message(int value) const override {
    if (static_cast<error>(value) == error::not_numeric_address)
      return "not a numeric address (\"127.0.0.1\", \"::1\"); look host names up with "
             "proact::resolver";
    if (static_cast<error>(value) == error::host_not_found)
      return "host not found (a reserved name that cannot exist)";
    return condition_category().message(static_cast<int>(condition_of(value)));
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    return make_error_condition(condition_of(value));
  }

 private:
  static errc condition_of(int value) noexcept {
    switch (static_cast<error>(value)) {
      case error::eof:
        return errc::eof;
      case error::port_closed:
        return errc::port_closed;
      case error::not_associated:
        return errc::not_associated;
      case error::not_on_loop:
        return errc::not_on_loop;
      case error::already_associated:
        return errc::already_associated;
      case error::operation_in_progress:
        return errc::operation_in_progress;
      case error::invalid_argument:
        return errc::invalid_argument;
      case error::bad_handle:
        return errc::bad_handle;
      case error::buffer_too_large:
        return errc::buffer_too_large;
      case error::backend_unavailable:
        return errc::backend_unavailable;
      case error::timed_out:
        return errc::timed_out;
      case error::operation_aborted:
        return errc::operation_aborted;
      case error::not_found:
        return errc::not_found;
      case error::not_connected:
        return errc::not_connected;
      case error::shut_down:
        return errc::shut_down;
      case error::host_not_found:
        return errc::host_not_found;
      case error::not_numeric_address:
        return errc::invalid_argument;
      case error::operation_not_supported:
        return errc::operation_not_supported;
      case error::pool_empty:
        return errc::pool_empty;
    }
    return errc::invalid_argument;
  }
};

}  // namespace

const std::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

const std::error_category& library_category() noexcept {
  static const library_category_impl instance;
  return instance;
}

}  // namespace proact
