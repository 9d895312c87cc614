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
  op_record* r = take_record();
  if (r == nullptr) return nullptr;
  r->kind = kind;
  r->overlapped = ov;
  r->key = f.key;
  r->owner = &f;
  r->started_on = &f.file;
  return r;
}

BOOL file_started(op_record* r, LPOVERLAPPED ov, const std::error_code& ec) {
  if (!ec) return fail_win32(ERROR_IO_PENDING);
  give_back(r);
  const DWORD status = ntstatus_from(ec);
  ov->Internal = status;
  ov->InternalHigh = 0;
  return fail_win32(win32_from_ntstatus(status));
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
                     LPDWORD /*lpNumberOfBytesRead*/, LPOVERLAPPED lpOverlapped) {
  file_object* f = find_file(hFile);
  if (f == nullptr) return fail_win32(ERROR_INVALID_HANDLE);
  if (lpOverlapped == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  op_record* r = file_record(*f, op_kind::read_file, lpOverlapped);
  if (r == nullptr) return fail_win32(ERROR_NOT_ENOUGH_MEMORY);
  r->buffers[0] = proact::buffer{lpBuffer, nNumberOfBytesToRead};
  mark_pending(lpOverlapped, r);
  return file_started(r, lpOverlapped, f->file.read_at(*r, offset_of(lpOverlapped), r->buffers[0]));
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD /*lpNumberOfBytesWritten*/, LPOVERLAPPED lpOverlapped) {
  file_object* f = find_file(hFile);
  if (f == nullptr) return fail_win32(ERROR_INVALID_HANDLE);
  if (lpOverlapped == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  op_record* r = file_record(*f, op_kind::write_file, lpOverlapped);
  if (r == nullptr) return fail_win32(ERROR_NOT_ENOUGH_MEMORY);
  r->send_buffers[0] = proact::const_buffer{lpBuffer, nNumberOfBytesToWrite};
  mark_pending(lpOverlapped, r);
  return file_started(r, lpOverlapped,
                      f->file.write_at(*r, offset_of(lpOverlapped), r->send_buffers[0]));
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

BOOL WINAPI DeleteFileA(LPCSTR lpFileName) {
  if (lpFileName == nullptr) return fail_win32(ERROR_INVALID_PARAMETER);
  if (const std::error_code ec = remove_file(lpFileName)) {
    return fail_win32(win32_from_open_error(ec));
  }
  return TRUE;
}
