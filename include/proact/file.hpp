// file: a regular file opened for asynchronous positional I/O (overlapped on
// Windows). Several reads and writes may be in flight on one file at once;
// each names its own 64-bit offset and they complete in any order.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/export.hpp"
#include "proact/handle.hpp"

namespace proact {

enum class file_mode : unsigned {
  read = 1,        // open for reading
  write = 2,       // open for writing
  create = 4,      // create the file if it does not exist
  truncate = 8,    // truncate it to 0 bytes on open
  exclusive = 16,  // with create: fail if it exists
};
constexpr file_mode operator|(file_mode a, file_mode b) noexcept {
  return static_cast<file_mode>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(file_mode set, file_mode flag) noexcept {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

// The permissions of a file that open() creates: POSIX mode bits (07777),
// reduced by the process's umask. On Windows only one thing maps: a mode
// without any write bit (0222) creates a read-only file
// (FILE_ATTRIBUTE_READONLY); the other bits are ignored.
inline constexpr unsigned default_file_permissions = 0666;

// What flush() makes durable.
enum class flush_mode {
  data,  // the bytes written, and the metadata needed to read them (fdatasync)
  all,   // the bytes and every metadata change, times included (fsync)
};

class PROACT_API file : public handle {
 public:
  file() noexcept = default;

  // `path` is UTF-8. Fails with the native error (not_found; file_exists
  // for `create | exclusive` on an existing file, which also compares equal
  // to std::errc::file_exists). `permissions` apply to a file it creates
  // (see default_file_permissions); bits outside 07777 are invalid_argument.
  [[nodiscard]] std::error_code open(std::string_view path, file_mode mode);
  [[nodiscard]] std::error_code open(std::string_view path, file_mode mode, unsigned permissions);
  // Takes ownership of a regular file the caller opened itself (a path
  // resolved its own way, e.g. confined to a directory): a POSIX descriptor,
  // or on Windows a HANDLE opened with FILE_FLAG_OVERLAPPED. `mode` is the
  // access it was opened with: read, write or both (invalid_argument for
  // anything else). Anything that is not an open regular file (a directory,
  // FIFO, device, socket) is bad_handle and stays the caller's. On POSIX
  // O_NONBLOCK and O_DIRECT are cleared (io_uring would fail a read that must
  // wait for the disk with EAGAIN; proact's reads and writes take any buffer
  // and offset, which O_DIRECT does not).
  [[nodiscard]] std::error_code adopt(native_handle_type native, file_mode mode);
  // Gives the native file back without closing it (invalid_native_handle if
  // the file is associated: the port still uses it, or not open).
  [[nodiscard]] native_handle_type release() noexcept;

  // Reads up to b.size bytes at `offset`. At or past the end of the file it
  // completes with 0 bytes and errc::eof; a read that crosses the end
  // completes with the bytes that were there and no error.
  [[nodiscard]] std::error_code read_at(operation& op, std::uint64_t offset, buffer b);
  // Writes all of b at `offset` (extending the file), or fails with the
  // bytes that went.
  [[nodiscard]] std::error_code write_at(operation& op, std::uint64_t offset, const_buffer b);

  // Makes what was written to the file durable (storage, not a cache):
  // completes with 0 bytes once it is, or with the error. An operation like
  // the others: cancellable while it waits for a thread or the kernel, and
  // it completes exactly once. flush, set_size and preallocate need a file
  // opened with file_mode::write (bad_handle otherwise).
  [[nodiscard]] std::error_code flush(operation& op, flush_mode what = flush_mode::all);

  // Synchronous, on an open file (associated or not). The file's size in bytes.
  std::uint64_t size(std::error_code& ec) const;
  [[nodiscard]] std::error_code size(std::uint64_t& bytes) const;
  // Truncates or extends the file to `bytes`; an extension reads as zeros.
  [[nodiscard]] std::error_code set_size(std::uint64_t bytes);
  // Reserves storage for [offset, offset + length) so that writes there do
  // not fail for lack of space, and extends the file to offset + length if
  // it is shorter (the new bytes read as zeros); existing content is kept.
  // errc::operation_not_supported where the file system cannot reserve
  // storage (nothing is changed then); invalid_argument for length 0 or a
  // range past 2^63.
  [[nodiscard]] std::error_code preallocate(std::uint64_t offset, std::uint64_t length);

  // Awaitable forms (see task.hpp).
  [[nodiscard]] auto read_at(std::uint64_t offset, buffer b) {
    return detail::io_awaitable(
        *this, [this, offset, b](operation& op) { return read_at(op, offset, b); });
  }
  [[nodiscard]] auto write_at(std::uint64_t offset, const_buffer b) {
    return detail::io_awaitable(
        *this, [this, offset, b](operation& op) { return write_at(op, offset, b); });
  }
  [[nodiscard]] auto flush(flush_mode what = flush_mode::all) {
    return detail::io_awaitable(*this, [this, what](operation& op) { return flush(op, what); });
  }

 private:
  std::error_code require_writable() const noexcept;

  bool writable_ = false;  // opened with file_mode::write
};

}  // namespace proact
