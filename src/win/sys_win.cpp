// Plain socket calls on Winsock 2. Sockets are created overlapped (for IOCP)
// and not inheritable.
//
// Listener address reuse: Windows' default already behaves like POSIX
// SO_REUSEADDR for TCP listeners (a new listener may bind a port whose old
// connections linger in TIME_WAIT; binding a port that another socket holds
// fails with WSAEADDRINUSE), so no option is set. SO_REUSEADDR would let a
// second socket steal a port that is in active use, and SO_EXCLUSIVEADDRUSE
// would refuse the rebind while TIME_WAIT connections remain.
#include <string>

#include "common/sys.hpp"
#include "proact/error.hpp"
#include "winsock.hpp"

namespace proact::detail::sys {

namespace {

SOCKET as_socket(native_handle_type fd) noexcept {
  return static_cast<SOCKET>(fd);
}

native_handle_type open_socket(address_family family, int type, int protocol,
                               std::error_code& ec) noexcept {
  ec = winsock::startup();
  if (ec) return invalid_native_handle;
  const SOCKET s = WSASocketW(winsock::native_family(family), type, protocol, nullptr, 0,
                              WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) {
    ec = winsock::last_error();
    return invalid_native_handle;
  }
  ec.clear();
  return static_cast<native_handle_type>(s);
}

native_handle_type open_stream(address_family family, std::error_code& ec) noexcept {
  return open_socket(family, SOCK_STREAM, IPPROTO_TCP, ec);
}

std::error_code last_win32_error() noexcept {
  return native_error(static_cast<int>(GetLastError()));
}

// The UTF-16 form of a UTF-8 path; empty (with ec set) if it is not valid.
std::wstring wide_path(std::string_view path, std::error_code& ec) noexcept {
  std::wstring wide;
  if (path.empty() || path.size() > 32767 || path.find('\0') != std::string_view::npos) {
    ec = make_error_code(error::invalid_argument);
    return wide;
  }
  const int length = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(),
                                         static_cast<int>(path.size()), nullptr, 0);
  if (length <= 0) {
    ec = native_error(ERROR_NO_UNICODE_TRANSLATION);
    return wide;
  }
  try {
    wide.resize(static_cast<std::size_t>(length));
  } catch (...) {
    ec = native_error(ERROR_NOT_ENOUGH_MEMORY);
    return wide;
  }
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(), static_cast<int>(path.size()),
                      wide.data(), length);
  ec.clear();
  return wide;
}

// CreateFileW's disposition for a file_mode, as open(2) reads O_CREAT,
// O_TRUNC and O_EXCL (O_EXCL without O_CREAT is ignored).
DWORD disposition_of(file_mode mode) noexcept {
  const bool create = has(mode, file_mode::create);
  const bool truncate = has(mode, file_mode::truncate);
  if (create && has(mode, file_mode::exclusive)) return CREATE_NEW;
  if (create) return truncate ? CREATE_ALWAYS : OPEN_ALWAYS;
  return truncate ? TRUNCATE_EXISTING : OPEN_EXISTING;
}

endpoint name_of(native_handle_type fd, bool peer, std::error_code& ec) noexcept {
  endpoint e;
  int length = static_cast<int>(endpoint::capacity());
  auto* address = static_cast<sockaddr*>(e.data());
  const int rc = peer ? getpeername(as_socket(fd), address, &length)
                      : getsockname(as_socket(fd), address, &length);
  if (rc != 0) {
    ec = winsock::last_error();
    return {};
  }
  ec.clear();
  e.resize(static_cast<std::size_t>(length));
  return e;
}

}  // namespace

native_handle_type open_tcp_socket(address_family family, std::error_code& ec) noexcept {
  return open_stream(family, ec);
}

native_handle_type open_tcp_listener(address_family family, std::error_code& ec) noexcept {
  return open_stream(family, ec);  // see the note on address reuse at the top
}

native_handle_type open_udp_socket(address_family family, std::error_code& ec) noexcept {
  const native_handle_type fd = open_socket(family, SOCK_DGRAM, IPPROTO_UDP, ec);
  if (ec) return invalid_native_handle;
  // An ICMP port-unreachable answering an earlier send_to would otherwise
  // fail a later recv_from with WSAECONNRESET; Linux reports nothing on an
  // unconnected socket, and neither does proact.
  BOOL report = FALSE;
  DWORD unused = 0;
  if (WSAIoctl(as_socket(fd), SIO_UDP_CONNRESET, &report, sizeof(report), nullptr, 0, &unused,
               nullptr, nullptr) != 0) {
    ec = winsock::last_error();
    closesocket(as_socket(fd));
    return invalid_native_handle;
  }
  return fd;
}

native_handle_type open_file(std::string_view path, file_mode mode, unsigned permissions,
                             std::error_code& ec) noexcept {
  const std::wstring name = wide_path(path, ec);
  if (ec) return invalid_native_handle;
  DWORD access = 0;
  if (has(mode, file_mode::read)) access |= GENERIC_READ;
  if (has(mode, file_mode::write)) access |= GENERIC_WRITE;
  // Of the POSIX permissions only "nobody may write" has a Windows form;
  // like POSIX, the handle that creates a read-only file may still write it.
  const DWORD attributes =
      (permissions & 0222u) == 0 ? FILE_ATTRIBUTE_READONLY : FILE_ATTRIBUTE_NORMAL;
  // Shared like a POSIX file: others may read, write, rename or delete it.
  const HANDLE file =
      CreateFileW(name.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                  nullptr, disposition_of(mode), attributes | FILE_FLAG_OVERLAPPED, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    ec = last_win32_error();
    return invalid_native_handle;
  }
  // Only regular files (a directory already fails above with
  // ERROR_ACCESS_DENIED): a device or a pipe has no positions.
  if (GetFileType(file) != FILE_TYPE_DISK) {
    CloseHandle(file);
    ec = native_error(ERROR_INVALID_PARAMETER);
    return invalid_native_handle;
  }
  ec.clear();
  return reinterpret_cast<native_handle_type>(file);
}

std::error_code prepare_file(native_handle_type fd) noexcept {
  const auto file = reinterpret_cast<HANDLE>(fd);
  // A directory is a disk "file" too: its attributes tell.
  BY_HANDLE_FILE_INFORMATION info{};
  if (GetFileType(file) != FILE_TYPE_DISK || !GetFileInformationByHandle(file, &info) ||
      (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    return make_error_code(error::bad_handle);
  }
  return {};
}

std::uint64_t file_size(native_handle_type fd, std::error_code& ec) noexcept {
  LARGE_INTEGER size{};
  if (!GetFileSizeEx(reinterpret_cast<HANDLE>(fd), &size)) {
    ec = last_win32_error();
    return 0;
  }
  ec.clear();
  return static_cast<std::uint64_t>(size.QuadPart);
}

std::error_code shutdown_send(native_handle_type fd) noexcept {
  if (::shutdown(as_socket(fd), SD_SEND) != 0) return winsock::last_error();
  return {};
}

// Sockets and HANDLEs (files, pipes) share native_handle_type. closesocket
// refuses anything that is not a socket (WSAENOTSOCK, or
// WSANOTINITIALISED when no socket was ever made) without closing it.
std::error_code close(native_handle_type fd) noexcept {
  if (closesocket(as_socket(fd)) == 0) return {};
  const int code = WSAGetLastError();
  if (code != WSAENOTSOCK && code != WSANOTINITIALISED) return native_error(code);
  if (!CloseHandle(reinterpret_cast<HANDLE>(fd))) return last_win32_error();
  return {};
}

std::error_code bind(native_handle_type fd, const endpoint& local) noexcept {
  if (::bind(as_socket(fd), static_cast<const sockaddr*>(local.data()),
             static_cast<int>(local.size())) != 0)
    return winsock::last_error();
  return {};
}

std::error_code listen(native_handle_type fd, int backlog) noexcept {
  if (::listen(as_socket(fd), backlog) != 0) return winsock::last_error();
  return {};
}

std::error_code set_no_delay(native_handle_type fd, bool on) noexcept {
  const BOOL value = on ? TRUE : FALSE;
  if (setsockopt(as_socket(fd), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&value),
                 sizeof(value)) != 0)
    return winsock::last_error();
  return {};
}

endpoint local_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  return name_of(fd, false, ec);
}

endpoint remote_endpoint(native_handle_type fd, std::error_code& ec) noexcept {
  return name_of(fd, true, ec);
}

}  // namespace proact::detail::sys
