// timer_entry: one place in a loop's timer heap. A proact::timer is one, and
// so is the deadline of an awaited operation: every timeout of a loop sits in
// the same heap, watched by the loop's threads in their wait, so ten thousand
// idle deadlines cost a heap slot each and nothing else.
#pragma once

#include <chrono>
#include <cstddef>

namespace proact::detail {

class timer_service;

class timer_entry {
 public:
  using clock = std::chrono::steady_clock;
  // Called by a loop thread after its wait, with the service's lock held,
  // once the entry reached its deadline and was taken out of the heap.
  using expire_fn = void (*)(timer_entry& self);

  timer_entry(const timer_entry&) = delete;
  timer_entry& operator=(const timer_entry&) = delete;

 protected:
  explicit timer_entry(expire_fn expire) noexcept : expire_(expire) {}
  ~timer_entry() = default;

  bool in_heap() const noexcept { return heap_index_ != not_in_heap; }

  clock::time_point deadline_{};

 private:
  friend class timer_service;
  static constexpr std::size_t not_in_heap = static_cast<std::size_t>(-1);

  expire_fn expire_;
  std::size_t heap_index_ = not_in_heap;  // position in the heap while armed
};

}  // namespace proact::detail
