// buffer_pool: receive buffers shared by the pooled recvs of a port's
// streams (stream_handle::recv_pooled). A pooled recv holds no buffer while
// it waits: the library takes one from the pool when data arrives and hands
// it over with the completion (operation::pooled()), so that thousands of
// idle connections hold no receive memory. The caller gives each buffer
// back with release(); until then it is the caller's.
//
//   proact::buffer_pool pool;
//   if (auto ec = pool.open(port, 256, 4096)) ...;     // 256 buffers of 4 KiB
//   (void)socket.recv_pooled(op, pool);
//   ... wait: c.bytes bytes in op.pooled().data; then pool.release(op.pooled().id)
//
// A pool belongs to one port (io_uring registers it with the kernel). Close
// (or destroy) it only once no pooled recv that uses it is in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/export.hpp"

namespace proact {

class port;
class loop;
namespace detail {
class pool_state;
}

class PROACT_API buffer_pool {
 public:
  // At most this many buffers in a pool (io_uring's provided-buffer ring).
  static constexpr std::size_t max_count = 32768;

  buffer_pool() noexcept = default;
  buffer_pool(buffer_pool&& other) noexcept;
  buffer_pool& operator=(buffer_pool&& other) noexcept;
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;
  ~buffer_pool();

  // `count` buffers of `size` bytes, memory owned by the pool. Fails with
  // invalid_argument for a count of 0 or above max_count, a size of 0 or
  // above max_transfer_size; bad_handle for a port that is not open;
  // already_associated if this pool is open already.
  [[nodiscard]] std::error_code open(port& p, std::size_t count, std::size_t size);
  // Buffers of `size` bytes carved from the caller's memory (memory.size() /
  // size of them, the rest unused); the memory must outlive the pool.
  [[nodiscard]] std::error_code open(port& p, std::span<std::byte> memory, std::size_t size);
  // The same on the port of a loop (whose sockets await recv_pooled).
  [[nodiscard]] std::error_code open(loop& l, std::size_t count, std::size_t size);
  [[nodiscard]] std::error_code open(loop& l, std::span<std::byte> memory, std::size_t size);
  bool is_open() const noexcept { return state_ != nullptr; }
  // Frees the pool (no pooled recv may be using it). Idempotent.
  void close() noexcept;

  // Gives buffer `id` back (any thread). invalid_argument if the id is not
  // that of a buffer the pool lent out and that was not released since.
  [[nodiscard]] std::error_code release(std::uint32_t id) noexcept;

  std::size_t buffer_count() const noexcept;
  std::size_t buffer_size() const noexcept;
  // Buffers in the pool right now, not lent out: a snapshot, for tests and
  // statistics (on io_uring a buffer the kernel filled counts until its
  // completion is reaped).
  std::size_t available() const noexcept;

 private:
  friend class stream_handle;
  detail::pool_state* state_ = nullptr;
};

}  // namespace proact
