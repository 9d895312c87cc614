// pool_state: a buffer_pool's buffers and which of them are free or lent.
//
// Free buffers are kept either here (a stack the backends take from when
// data is ready: epoll, IOCP, and io_uring without provided-buffer rings)
// or by the backend (`keeper`: io_uring's provided-buffer ring, from which
// the kernel takes them). Either way a buffer handed out with a completion
// is marked lent, and only a lent buffer can be released, once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>

#include "common/op_access.hpp"
#include "common/word_mutex.hpp"
#include "proact/buffer.hpp"
#include "proact/error.hpp"

namespace proact::detail {

class port_backend;
class pool_state;

// A backend that keeps a pool's free buffers itself.
class pool_keeper {
 public:
  pool_keeper() noexcept = default;
  pool_keeper(const pool_keeper&) = delete;
  pool_keeper& operator=(const pool_keeper&) = delete;
  virtual ~pool_keeper() = default;
  // Buffer `id` is free again (any thread).
  virtual void give_back(pool_state& pool, std::uint16_t id) noexcept = 0;
};

class pool_state {
 public:
  pool_state(port_backend& backend, std::byte* memory, std::unique_ptr<std::byte[]> owned,
             std::size_t size, std::uint16_t count);
  pool_state(const pool_state&) = delete;
  pool_state& operator=(const pool_state&) = delete;
  ~pool_state();

  // False if the constructor could not allocate its bookkeeping.
  bool allocated() const noexcept { return lent_ != nullptr && free_ != nullptr; }
  port_backend& backend() const noexcept { return backend_; }
  std::size_t size() const noexcept { return size_; }
  std::uint32_t count() const noexcept { return count_; }
  buffer at(std::uint16_t id) const noexcept { return buffer{memory_ + id * size_, size_}; }
  std::byte* memory() const noexcept { return memory_; }

  // Set by the backend when it keeps the free buffers (before any recv).
  void kept_by(pool_keeper* keeper, std::uint16_t group) noexcept {
    keeper_ = keeper;
    group_ = group;
  }
  pool_keeper* keeper() const noexcept { return keeper_; }
  std::uint16_t group() const noexcept { return group_; }

  // Without a keeper: a free buffer for a recv about to read (lent from
  // now on), or false if there is none.
  bool take(std::uint16_t& id) noexcept;
  // A buffer that take() gave and that received nothing goes back.
  void put_back(std::uint16_t id) noexcept;
  // With a keeper: the kernel filled buffer `id`; it goes to the caller.
  void lend(std::uint16_t id) noexcept {
    lent_[id].store(1, std::memory_order_relaxed);
    lent_count_.fetch_add(1, std::memory_order_relaxed);
  }
  // The caller gives a lent buffer back.
  std::error_code release(std::uint32_t id) noexcept;
  std::size_t available() const noexcept;

 private:
  void push_free(std::uint16_t id) noexcept;

  port_backend& backend_;
  std::byte* memory_;
  std::unique_ptr<std::byte[]> owned_;
  std::size_t size_;
  std::uint32_t count_;
  pool_keeper* keeper_ = nullptr;
  std::uint16_t group_ = 0;
  std::unique_ptr<std::atomic<std::uint8_t>[]> lent_;
  mutable word_mutex lock_;  // guards the free stack
  std::unique_ptr<std::uint16_t[]> free_;
  std::uint32_t free_count_ = 0;
  std::atomic<std::uint32_t> lent_count_{0};
};

// A pooled recv records its pool as the operation's target; a plain recv
// has none.
inline pool_state* pool_of(const operation& op) noexcept {
  return op_access::kind(op) == op_kind::recv ? static_cast<pool_state*>(op_access::target(op))
                                              : nullptr;
}

// Emulation: takes a buffer for `op` into its single buffer and pooled id;
// false if the pool is empty.
bool take_pool_buffer(operation& op) noexcept;
// Emulation: the recv read nothing into it (would block, eof, an error).
void put_back_pool_buffer(operation& op) noexcept;
// Native: the kernel filled buffer `id` for `op`.
void lend_pool_buffer(operation& op, std::uint16_t id) noexcept;

inline std::error_code pool_empty() noexcept {
  return make_error_code(error::pool_empty);
}

}  // namespace proact::detail
