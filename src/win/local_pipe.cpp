// sys::open_local_pair on Windows: the two ends of a named pipe made for the
// occasion. Both ends are overlapped byte-mode pipe handles, not inheritable,
// served by the IOCP backend with ReadFile and WriteFile like a stream
// socket (kind local_stream).
#include <windows.h>

#include <atomic>
#include <cwchar>

#include "common/sys.hpp"
#include "proact/error.hpp"

namespace proact::detail::sys {

namespace {

constexpr DWORD pipe_buffer_size = 64 * 1024;

std::error_code last_error() noexcept {
  return native_error(static_cast<int>(GetLastError()));
}

// A name nobody else uses: process id, a per-process counter and the tick
// count (a dead process with the same id may have left a pipe behind).
void make_name(wchar_t (&name)[96]) noexcept {
  static std::atomic<unsigned long> counter{0};
  std::swprintf(name, 96, L"\\\\.\\pipe\\proact-%lu-%lu-%llx",
                static_cast<unsigned long>(GetCurrentProcessId()),
                counter.fetch_add(1, std::memory_order_relaxed),
                static_cast<unsigned long long>(GetTickCount64()));
}

// The server end's connection: the client end already opened it, so
// ConnectNamedPipe reports ERROR_PIPE_CONNECTED. An overlapped handle needs an
// OVERLAPPED with an event even for that answer.
std::error_code connect_server(HANDLE server) noexcept {
  OVERLAPPED ov{};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr) return last_error();
  std::error_code ec;
  if (!ConnectNamedPipe(server, &ov)) {
    const DWORD code = GetLastError();
    if (code == ERROR_IO_PENDING) {
      DWORD unused = 0;
      if (!GetOverlappedResult(server, &ov, &unused, TRUE)) ec = last_error();
    } else if (code != ERROR_PIPE_CONNECTED) {
      ec = native_error(static_cast<int>(code));
    }
  }
  CloseHandle(ov.hEvent);
  return ec;
}

}  // namespace

std::error_code open_local_pair(native_handle_type& a, native_handle_type& b) noexcept {
  for (int attempt = 0;; ++attempt) {
    wchar_t name[96];
    make_name(name);
    // One instance, first of its name: if the name is taken, this fails
    // (ERROR_ACCESS_DENIED) rather than joining someone else's pipe.
    const HANDLE server = CreateNamedPipeW(
        name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
        pipe_buffer_size, pipe_buffer_size, 0, nullptr);
    if (server == INVALID_HANDLE_VALUE) {
      const DWORD code = GetLastError();
      if ((code == ERROR_ACCESS_DENIED || code == ERROR_PIPE_BUSY) && attempt < 4) continue;
      return native_error(static_cast<int>(code));
    }
    const HANDLE client = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                      FILE_FLAG_OVERLAPPED, nullptr);
    if (client == INVALID_HANDLE_VALUE) {
      // ERROR_PIPE_BUSY: another process connected first to our one instance.
      const DWORD code = GetLastError();
      CloseHandle(server);
      if (code == ERROR_PIPE_BUSY && attempt < 4) continue;
      return native_error(static_cast<int>(code));
    }
    if (auto ec = connect_server(server)) {
      CloseHandle(client);
      CloseHandle(server);
      return ec;
    }
    a = reinterpret_cast<native_handle_type>(server);
    b = reinterpret_cast<native_handle_type>(client);
    return {};
  }
}

std::error_code prepare_local_stream(native_handle_type fd) noexcept {
  if (GetFileType(reinterpret_cast<HANDLE>(fd)) != FILE_TYPE_PIPE)
    return make_error_code(error::bad_handle);
  return {};
}

}  // namespace proact::detail::sys
