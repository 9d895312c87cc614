// Files: CreateFileA (overlapped), ReadFile/WriteFile at the OVERLAPPED's
// offset, GetFileSizeEx, DeleteFileA. Association, cancel and close go
// through CreateIoCompletionPort, CancelIoEx/CancelIo and CloseHandle.
#include <mutex>
#include <string>

#include "completion.hpp"
#include "native_socket.hpp"
#include "objects.hpp"
#include "op_record.hpp"
#include "proact/error.hpp"
#include "status.hpp"

using namespace proact::win32;

namespace {

DWORD win32_from_open_error(const std::error_code& ec) noexcept {
  if (ec == std::errc::no_such_file_or_directory) return ERROR_FILE_NOT_FOUND;
  if (ec == std::errc::file_exists || ec == proact::errc::file_exists) return ERROR_FILE_EXISTS;
  if (ec == std::errc::not_a_directory) return ERROR_PATH_NOT_FOUND;
  if (ec == std::errc::permission_denied || ec == std::errc::is_a_directory) {
    return ERROR_ACCESS_DENIED;
  }
  if (ec == std::errc::too_many_files_open) return ERROR_TOO_MANY_OPEN_FILES;
  return ERROR_INVALID_PARAMETER;
}

bool mode_for(DWORD access, DWORD disposition, proact::file_mode& mode) noexcept {
  using proact::file_mode;
  unsigned m = 0;
  if ((access & (GENERIC_READ | GENERIC_ALL)) != 0) m |= static_cast<unsigned>(file_mode::read);
  if ((access & (GENERIC_WRITE | GENERIC_ALL)) != 0) m |= static_cast<unsigned>(file_mode::write);
  switch (disposition) {
    case CREATE_NEW:
      m |= static_cast<unsigned>(file_mode::create) | static_cast<unsigned>(file_mode::exclusive);
      break;
    case CREATE_ALWAYS:
      m |= static_cast<unsigned>(file_mode::create) | static_cast<unsigned>(file_mode::truncate);
      break;
    case OPEN_EXISTING:
      break;
    case OPEN_ALWAYS:
      m |= static_cast<unsigned>(file_mode::create);
      break;
    case TRUNCATE_EXISTING:
      m |= static_cast<unsigned>(file_mode::truncate);
      break;
    default:
      return false;
  }
  mode = static_cast<file_mode>(m);
  return true;
}

// What ReadFile and WriteFile share: the file, the record, the offset.
op_record* file_record(file_object& f, op_kind kind, LPOVERLAPPED ov) {
  return take_record(kind, ov, f.key, &f, &f.file);
}

bool skip_mode(const file_object& f) noexcept {
  return f.port != nullptr && f.skip_on_success.load(std::memory_order_acquire);
}

// The answer of ReadFile/WriteFile: pending; in skip mode perhaps done in the
// call (TRUE and the byte count, or its error; no packet comes); or refused.
BOOL file_started(op_record* r, LPOVERLAPPED ov, const std::error_code& ec, file_object& f,
                  bool skip, LPDWORD bytes) {
  const start_outcome o = after_start(r, ov, ec, skip, f.port);
  switch (o.what) {
    case start_outcome::pending:
      return fail_win32(ERROR_IO_PENDING);
    case start_outcome::refused:
      return fail_win32(win32_from_ntstatus(ntstatus_from(o.refusal)));
    case start_outcome::done:
      break;
  }
  if (bytes != nullptr) *bytes = o.result.bytes;
  if (o.result.status != STATUS_SUCCESS) return fail_win32(win32_from_ntstatus(o.result.status));
  return TRUE;
}

std::uint64_t offset_of(const OVERLAPPED* ov) noexcept {
  return (std::uint64_t{ov->OffsetHigh} << 32) | ov->Offset;
}

}  // namespace

HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD /*dwShareMode*/,
                          LPVOID /*lpSecurityAttributes*/, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE /*hTemplateFile*/) {
  proact::file_mode mode{};
  if (lpFileName == nullptr || !mode_for(dwDesiredAccess, dwCreationDisposition, mode)) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return INVALID_HANDLE_VALUE;
  }
  // Only overlapped files: synchronous ReadFile/WriteFile are not provided.
  if ((dwFlagsAndAttributes & FILE_FLAG_OVERLAPPED) == 0) {
    SetLastError(ERROR_NOT_SUPPORTED);
    return INVALID_HANDLE_VALUE;
  }
  const unsigned permissions = (dwFlagsAndAttributes & FILE_ATTRIBUTE_READONLY) != 0
                                   ? 0444
                                   : proact::default_file_permissions;
  file_object* f = new_file();
  if (f == nullptr) return INVALID_HANDLE_VALUE;
  if (auto ec = f->file.open(lpFileName, mode, permissions)) {
    free_file(f);
    SetLastError(win32_from_open_error(ec));
    return INVALID_HANDLE_VALUE;
  }
  SetLastError(ERROR_SUCCESS);
  return reinterpret_cast<HANDLE>(f->value);  // NOLINT(performance-no-int-to-ptr)
}

BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped) {
  file_object* f = find_file(hFile);
  if (f == nullptr) return fail_win32(ERROR_INVALID_HANDLE);
  if (lpOverlapped == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  op_record* r = file_record(*f, op_kind::read_file, lpOverlapped);
  if (r == nullptr) return fail_win32(ERROR_NOT_ENOUGH_MEMORY);
  r->buffers[0] = proact::buffer{lpBuffer, nNumberOfBytesToRead};
  const bool skip = skip_mode(*f);
  mark_pending(lpOverlapped, r, skip);
  return file_started(r, lpOverlapped, f->file.read_at(*r, offset_of(lpOverlapped), r->buffers[0]),
                      *f, skip, lpNumberOfBytesRead);
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped) {
  file_object* f = find_file(hFile);
  if (f == nullptr) return fail_win32(ERROR_INVALID_HANDLE);
  if (lpOverlapped == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  op_record* r = file_record(*f, op_kind::write_file, lpOverlapped);
  if (r == nullptr) return fail_win32(ERROR_NOT_ENOUGH_MEMORY);
  r->send_buffers[0] = proact::const_buffer{lpBuffer, nNumberOfBytesToWrite};
  const bool skip = skip_mode(*f);
  mark_pending(lpOverlapped, r, skip);
  return file_started(r, lpOverlapped,
                      f->file.write_at(*r, offset_of(lpOverlapped), r->send_buffers[0]), *f, skip,
                      lpNumberOfBytesWritten);
}

BOOL WINAPI GetFileSizeEx(HANDLE hFile, PLARGE_INTEGER lpFileSize) {
  file_object* f = find_file(hFile);
  if (f == nullptr) return fail_win32(ERROR_INVALID_HANDLE);
  if (lpFileSize == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  std::uint64_t bytes = 0;
  if (auto ec = f->file.size(bytes)) return fail_win32(ERROR_INVALID_HANDLE);
  lpFileSize->QuadPart = static_cast<LONGLONG>(bytes);
  return TRUE;
}

BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle, UCHAR Flags) {
  // FILE_SKIP_SET_EVENT_ON_HANDLE: there are no events to skip here.
  if ((Flags & ~(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE)) != 0) {
    return fail_win32(ERROR_INVALID_PARAMETER);
  }
  if ((Flags & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) == 0) return TRUE;
  // The flag first, then the mode: a start that sees the flag is ready for
  // an operation that completes in its call. (Like Windows programs, set it
  // before starting I/O on the handle.)
  if (socket_object* so = find_socket(reinterpret_cast<UINT_PTR>(FileHandle))) {
    std::lock_guard lock(so->mutex);
    so->skip_on_success.store(true, std::memory_order_release);
    proact::handle* h = so->active();
    if (h != nullptr && h->is_associated()) {
      if (auto ec = h->skip_completion_on_success()) return fail_win32(ERROR_INVALID_PARAMETER);
    }
    return TRUE;
  }
  if (file_object* f = find_file(FileHandle)) {
    std::lock_guard lock(f->mutex);
    f->skip_on_success.store(true, std::memory_order_release);
    if (f->file.is_associated()) {
      if (auto ec = f->file.skip_completion_on_success())
        return fail_win32(ERROR_INVALID_PARAMETER);
    }
    return TRUE;
  }
  return fail_win32(ERROR_INVALID_HANDLE);
}

BOOL WINAPI DeleteFileA(LPCSTR lpFileName) {
  if (lpFileName == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  if (const std::error_code ec = remove_file(lpFileName)) {
    return fail_win32(win32_from_open_error(ec));
  }
  return TRUE;
}
