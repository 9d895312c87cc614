// uring_pool: a buffer_pool's free buffers in an io_uring provided-buffer
// ring, from which the kernel picks one for a pooled recv (IOSQE_BUFFER_SELECT)
// when data is ready; a buffer released by the caller goes back into it.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>

#include "common/pool_state.hpp"

namespace proact::detail {

class uring_pool final : public pool_keeper {
 public:
  // Maps and registers a ring holding every buffer of `pool` as buffer
  // group `group` of `ring`. Null, with `ec`, if the kernel has no
  // provided-buffer rings (or cannot register one now).
  static uring_pool* create(io_uring& ring, pool_state& pool, std::uint16_t group,
                            std::error_code& ec) noexcept;
  // Unregisters the ring and frees it.
  static void destroy(io_uring& ring, uring_pool* keeper) noexcept;

  void give_back(pool_state& pool, std::uint16_t id) noexcept override;

  uring_pool(const uring_pool&) = delete;
  uring_pool& operator=(const uring_pool&) = delete;
  ~uring_pool() override = default;

 private:
  uring_pool() noexcept = default;

  io_uring_buf_ring* ring_ = nullptr;
  std::size_t ring_bytes_ = 0;
  int mask_ = 0;  // liburing's type for it
  std::uint16_t group_ = 0;
  std::mutex lock_;  // the ring's tail: one producer at a time
};

}  // namespace proact::detail
