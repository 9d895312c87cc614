// file::set_size and file::preallocate on Linux.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/sys.hpp"
#include "proact/error.hpp"

namespace proact::detail::sys {

std::error_code set_file_size(native_handle_type fd, std::uint64_t size) noexcept {
  int rc;
  do rc = ::ftruncate(fd, static_cast<off_t>(size));
  while (rc != 0 && errno == EINTR);
  return rc == 0 ? std::error_code{} : native_error(errno);
}

// fallocate(2) itself, not posix_fallocate(3): where the file system cannot
// reserve storage glibc's fallback writes a byte into every block, which
// is slow and reserves nothing on a copy-on-write file system. EOPNOTSUPP
// (errc::operation_not_supported) says so instead.
std::error_code preallocate_file(native_handle_type fd, std::uint64_t offset,
                                 std::uint64_t length) noexcept {
  int rc;
  do rc = ::fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(length));
  while (rc != 0 && errno == EINTR);
  return rc == 0 ? std::error_code{} : native_error(errno);
}

}  // namespace proact::detail::sys
