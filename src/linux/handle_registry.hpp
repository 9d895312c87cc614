// The port's registry of associated handles, for both Linux backends: the
// list of open ones (closing the port reaches every pending operation through
// it), and the storage of freed ones kept for the next associate(), so that a
// server accepting connections allocates nothing in steady state.
#pragma once

#include <cstddef>
#include <mutex>

#include "linux/linux_handle.hpp"

namespace proact::detail {

class handle_registry {
 public:
  // `handle_size`: the size of the backend's per-handle state.
  explicit handle_registry(std::size_t handle_size) noexcept : handle_size_(handle_size) {}
  handle_registry(const handle_registry&) = delete;
  handle_registry& operator=(const handle_registry&) = delete;
  ~handle_registry();

  // Everything below with the lock held.
  std::mutex& lock() noexcept { return lock_; }
  // Storage for a new handle: a spare one, else new; null if out of memory.
  void* take_storage_locked() noexcept;
  // Keeps the storage of a destroyed handle as a spare (up to a bound).
  void give_storage_locked(void* storage) noexcept;
  // The list of open handles is linked through their `*_registered` fields.
  void add_locked(linux_handle& h) noexcept;
  // Unlinks h; nothing happens if it is not on the list (any more).
  void remove_locked(linux_handle& h) noexcept;
  // Calls f(linux_handle&) on every open handle.
  template <class F>
  void for_each_locked(F&& f) {
    for (linux_handle* h = open_; h != nullptr; h = h->next_registered) f(*h);
  }

  void remove(linux_handle& h) noexcept {
    std::lock_guard registry(lock_);
    remove_locked(h);
  }

 private:
  struct spare {
    spare* next;
  };
  static constexpr std::size_t max_spares = 256;

  const std::size_t handle_size_;
  std::mutex lock_;
  linux_handle* open_ = nullptr;
  spare* spares_ = nullptr;
  std::size_t spare_count_ = 0;
};

}  // namespace proact::detail
