// file::set_size and file::preallocate on Windows.
#include <windows.h>

#include "common/sys.hpp"
#include "proact/error.hpp"

namespace proact::detail::sys {

namespace {

HANDLE as_handle(native_handle_type fd) noexcept {
  return reinterpret_cast<HANDLE>(fd);
}

std::error_code last_win32_error() noexcept {
  return native_error(static_cast<int>(GetLastError()));
}

std::error_code set_end_of_file(HANDLE file, std::uint64_t size) noexcept {
  FILE_END_OF_FILE_INFO info{};
  info.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
  if (!SetFileInformationByHandle(file, FileEndOfFileInfo, &info, sizeof(info)))
    return last_win32_error();
  return {};
}

}  // namespace

std::error_code set_file_size(native_handle_type fd, std::uint64_t size) noexcept {
  return set_end_of_file(as_handle(fd), size);
}

// The allocation size is what the file system reserves for the file. Set
// below the end of the file it would truncate the file, so it only ever
// grows here, and the end of file follows it (as posix_fallocate extends).
std::error_code preallocate_file(native_handle_type fd, std::uint64_t offset,
                                 std::uint64_t length) noexcept {
  const HANDLE file = as_handle(fd);
  LARGE_INTEGER current{};
  if (!GetFileSizeEx(file, &current)) return last_win32_error();
  const std::uint64_t end = offset + length;
  // Bytes inside the file are allocated already (a sparse file's holes
  // excepted, which Windows cannot reserve without writing them).
  if (end <= static_cast<std::uint64_t>(current.QuadPart)) return {};
  FILE_ALLOCATION_INFO allocation{};
  allocation.AllocationSize.QuadPart = static_cast<LONGLONG>(end);
  if (!SetFileInformationByHandle(file, FileAllocationInfo, &allocation, sizeof(allocation))) {
    const DWORD code = GetLastError();
    // A file system without the information class says so in one of these.
    if (code == ERROR_INVALID_PARAMETER || code == ERROR_INVALID_FUNCTION ||
        code == ERROR_NOT_SUPPORTED || code == ERROR_CALL_NOT_IMPLEMENTED)
      return make_error_code(error::operation_not_supported);
    return native_error(static_cast<int>(code));
  }
  return set_end_of_file(file, end);
}

}  // namespace proact::detail::sys
