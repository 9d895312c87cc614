#include "linux/uring_pool.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <new>

#include "proact/error.hpp"

namespace proact::detail {

uring_pool* uring_pool::create(io_uring& ring, pool_state& pool, std::uint16_t group,
                               std::error_code& ec) noexcept {
  unsigned entries = 1;
  while (entries < pool.count()) entries *= 2;
  auto* keeper = new (std::nothrow) uring_pool();
  if (keeper == nullptr) {
    ec = native_error(ENOMEM);
    return nullptr;
  }
  // Page-aligned, as the kernel requires: mmap'd.
  keeper->ring_bytes_ = entries * sizeof(io_uring_buf);
  void* memory = ::mmap(nullptr, keeper->ring_bytes_, PROT_READ | PROT_WRITE,
                        MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (memory == MAP_FAILED) {
    ec = native_error(errno);
    delete keeper;
    return nullptr;
  }
  keeper->ring_ = static_cast<io_uring_buf_ring*>(memory);
  keeper->mask_ = io_uring_buf_ring_mask(entries);
  keeper->group_ = group;
  io_uring_buf_ring_init(keeper->ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(memory);
  reg.ring_entries = entries;
  reg.bgid = group;
  if (const int r = io_uring_register_buf_ring(&ring, &reg, 0); r < 0) {
    ec = native_error(-r);
    ::munmap(memory, keeper->ring_bytes_);
    delete keeper;
    return nullptr;
  }
  for (std::uint32_t id = 0; id < pool.count(); ++id) {
    const buffer b = pool.at(static_cast<std::uint16_t>(id));
    io_uring_buf_ring_add(keeper->ring_, b.data, static_cast<unsigned>(b.size),
                          static_cast<unsigned short>(id), keeper->mask_, static_cast<int>(id));
  }
  io_uring_buf_ring_advance(keeper->ring_, static_cast<int>(pool.count()));
  ec.clear();
  return keeper;
}

void uring_pool::destroy(io_uring& ring, uring_pool* keeper) noexcept {
  (void)io_uring_unregister_buf_ring(&ring, keeper->group_);
  ::munmap(keeper->ring_, keeper->ring_bytes_);
  delete keeper;
}

void uring_pool::give_back(pool_state& pool, std::uint16_t id) noexcept {
  const buffer b = pool.at(id);
  std::lock_guard guard(lock_);
  io_uring_buf_ring_add(ring_, b.data, static_cast<unsigned>(b.size), id, mask_, 0);
  io_uring_buf_ring_advance(ring_, 1);
}

}  // namespace proact::detail
