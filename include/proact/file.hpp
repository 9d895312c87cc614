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

class PROACT_API file : public handle {
 public:
  file() noexcept = default;

  // `path` is UTF-8. Fails with the native error (not_found, ...).
  [[nodiscard]] std::error_code open(std::string_view path, file_mode mode);

  // Reads up to b.size bytes at `offset`. At or past the end of the file it
  // completes with 0 bytes and errc::eof; a read that crosses the end
  // completes with the bytes that were there and no error.
  [[nodiscard]] std::error_code read_at(operation& op, std::uint64_t offset, buffer b);
  // Writes all of b at `offset` (extending the file), or fails with the
  // bytes that went.
  [[nodiscard]] std::error_code write_at(operation& op, std::uint64_t offset, const_buffer b);

  std::uint64_t size(std::error_code& ec) const;

  // Awaitable forms (see task.hpp).
  [[nodiscard]] auto read_at(std::uint64_t offset, buffer b) {
    return detail::io_awaitable(
        *this, [this, offset, b](operation& op) { return read_at(op, offset, b); });
  }
  [[nodiscard]] auto write_at(std::uint64_t offset, const_buffer b) {
    return detail::io_awaitable(
        *this, [this, offset, b](operation& op) { return write_at(op, offset, b); });
  }
};

}  // namespace proact
