// Win32 and Winsock error codes: the native category (FormatMessage text) and
// their portable conditions. Winsock codes (WSAE*, 10000+) and Win32 codes
// (ERROR_*) share one number space, so one category holds both.
#include <string>

#include "common/native_error.hpp"
#include "winsock.hpp"

namespace proact {
namespace detail {

int native_condition(int code) noexcept {
  auto is = [](errc e) { return static_cast<int>(e); };
  switch (code) {
    case ERROR_OPERATION_ABORTED:  // == WSA_OPERATION_ABORTED: CancelIoEx
    case ERROR_REQUEST_ABORTED:
    case ERROR_HANDLES_CLOSED:  // Wine: closesocket with I/O pending (STATUS_HANDLES_CLOSED)
    case WSAEINTR:              // a blocking call cancelled
    case ERROR_ALERTED:         // Wine: the thread that started the I/O exited before it ran
      return is(errc::operation_aborted);
    case ERROR_HANDLE_EOF:
    case ERROR_GRACEFUL_DISCONNECT:
    case WSAEDISCON:
      return is(errc::eof);
    case ERROR_NETNAME_DELETED:  // STATUS_CONNECTION_RESET, STATUS_REMOTE_DISCONNECT
    case WSAECONNRESET:
    case WSAENETRESET:
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
      return is(errc::connection_reset);
    case ERROR_CONNECTION_REFUSED:
    case WSAECONNREFUSED:
    case ERROR_PORT_UNREACHABLE:
      return is(errc::connection_refused);
    case ERROR_CONNECTION_ABORTED:
    case WSAECONNABORTED:
      return is(errc::connection_aborted);
    case WAIT_TIMEOUT:
    case ERROR_SEM_TIMEOUT:
    case ERROR_TIMEOUT:
    case WSAETIMEDOUT:
      return is(errc::timed_out);
    case ERROR_ABANDONED_WAIT_0:  // the completion port handle was closed
      return is(errc::port_closed);
    case ERROR_NOT_FOUND:  // CancelIoEx: nothing pending that matches
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return is(errc::not_found);
    case WSAEINPROGRESS:
    case WSAEALREADY:
    case ERROR_IO_PENDING:
      return is(errc::operation_in_progress);
    case ERROR_INVALID_PARAMETER:
    case WSAEINVAL:
    case WSAEFAULT:
    case WSAEAFNOSUPPORT:
    case WSAEPFNOSUPPORT:
    case WSAEPROTONOSUPPORT:
    case WSAESOCKTNOSUPPORT:
    case WSAEOPNOTSUPP:
    case WSAEDESTADDRREQ:
      return is(errc::invalid_argument);
    case WSAEMSGSIZE:
    case ERROR_MORE_DATA:
      return is(errc::message_size);
    case WSAEADDRINUSE:
    case ERROR_ADDRESS_ALREADY_ASSOCIATED:
      return is(errc::address_in_use);
    case WSAEADDRNOTAVAIL:
      return is(errc::address_not_available);
    case ERROR_INVALID_HANDLE:
    case WSAENOTSOCK:
    case WSAEBADF:
      return is(errc::bad_handle);
    case WSAENETUNREACH:
    case WSAENETDOWN:
    case ERROR_NETWORK_UNREACHABLE:
      return is(errc::network_unreachable);
    case WSAEHOSTUNREACH:
    case WSAEHOSTDOWN:
    case ERROR_HOST_UNREACHABLE:
      return is(errc::host_unreachable);
    case WSAENOTCONN:
    case ERROR_CONNECTION_INVALID:
      return is(errc::not_connected);
    case WSAESHUTDOWN:
      return is(errc::shut_down);
    case WSAEISCONN:
      return is(errc::already_connected);
    case WSAHOST_NOT_FOUND:  // == EAI_NONAME
    case WSANO_DATA:         // == EAI_NODATA
    case WSANO_RECOVERY:     // == EAI_FAIL
      return is(errc::host_not_found);
    case WSATRY_AGAIN:  // == EAI_AGAIN
      return is(errc::try_again);
    case WSATYPE_NOT_FOUND:  // == EAI_SERVICE
      return is(errc::service_not_found);
    case ERROR_FILE_EXISTS:     // CREATE_NEW on an existing file
    case ERROR_ALREADY_EXISTS:  // e.g. CreateDirectory
      return is(errc::file_exists);
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:  // a file system without the request (FSCTL, information class)
    case ERROR_CALL_NOT_IMPLEMENTED:
      return is(errc::operation_not_supported);
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_TOO_MANY_OPEN_FILES:
    case WSAENOBUFS:
    case WSAEMFILE:
      return is(errc::no_resources);
    default:
      return 0;
  }
}

namespace {

// The std::errc value a Win32 code stands for (ERROR_FILE_EXISTS is
// std::errc::file_exists), or 0.
int generic_equivalent(int code) noexcept {
  switch (code) {
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return static_cast<int>(std::errc::file_exists);
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return static_cast<int>(std::errc::no_such_file_or_directory);
    case ERROR_ACCESS_DENIED:
      return static_cast<int>(std::errc::permission_denied);
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
    case ERROR_CALL_NOT_IMPLEMENTED:
      return static_cast<int>(std::errc::operation_not_supported);
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return static_cast<int>(std::errc::no_space_on_device);
    case ERROR_INVALID_PARAMETER:
      return static_cast<int>(std::errc::invalid_argument);
    default:
      return 0;
  }
}

}  // namespace
}  // namespace detail

namespace {

class win32_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "win32"; }

  std::string message(int code) const override {
    char* text = nullptr;
    const DWORD length = FormatMessageA(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, static_cast<DWORD>(code), MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
        reinterpret_cast<LPSTR>(&text), 0, nullptr);
    std::string result;
    if (length != 0 && text != nullptr) {
      result.assign(text, length);
      LocalFree(text);
      while (!result.empty() && (result.back() == '\n' || result.back() == '\r' ||
                                 result.back() == ' ' || result.back() == '.'))
        result.pop_back();
    }
    if (result.empty()) {  // Wine's message tables lack some codes (WAIT_TIMEOUT)
      result = "Win32 error " + std::to_string(code);
      if (const int condition = detail::native_condition(code); condition != 0)
        result = condition_category().message(condition) + " (" + result + ")";
    }
    return result;
  }

  // The portable proact condition when the code has one.
  std::error_condition default_error_condition(int code) const noexcept override {
    if (const int condition = detail::native_condition(code); condition != 0)
      return {condition, condition_category()};
    return {code, *this};
  }

  // Also the std::errc conditions that code written for POSIX compares
  // against (ec == std::errc::file_exists), where a Win32 code means one.
  bool equivalent(int code, const std::error_condition& condition) const noexcept override {
    if (condition.category() == std::generic_category()) {
      const int posix = detail::generic_equivalent(code);
      return posix != 0 && posix == condition.value();
    }
    return default_error_condition(code) == condition;
  }
};

}  // namespace

const std::error_category& native_category() noexcept {
  static const win32_category instance;
  return instance;
}

}  // namespace proact
