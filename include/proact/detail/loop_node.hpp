// loop_node: what a proact::loop dispatches. Every operation started on a
// handle that belongs to a loop, every posted callable and every timer is a
// loop_node: an operation plus the function that finishes it. The loop
// dequeues a completion and calls that function; nothing is looked up and
// nothing is allocated on the way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "proact/export.hpp"
#include "proact/operation.hpp"

namespace proact {

class callback_op;
class handle;
class loop;
class strand;
class timer;

namespace detail {

class tls_stream_state;

// Completion keys on a loop's port. Handles that loop::associate() ties to the
// loop complete with io_key; the loop's own packets (posted callables, timer
// expiries, cancellations it delivers itself) use result_key and carry their
// outcome in the node.
inline constexpr std::uintptr_t loop_io_key = 0x70726f61637431;      // "proact1"
inline constexpr std::uintptr_t loop_result_key = 0x70726f61637432;  // "proact2"

class loop_node : public operation {
 public:
  using finish_fn = void (*)(loop_node& self, std::size_t bytes, std::error_code ec);

  loop_node(const loop_node&) = delete;
  loop_node& operator=(const loop_node&) = delete;

 protected:
  explicit loop_node(finish_fn finish) noexcept : finish_(finish) {}
  ~loop_node() = default;
  // A recycled node starts unbound.
  void unbind() noexcept { strand_ = nullptr; }

 private:
  friend class proact::loop;
  friend class proact::strand;
  friend class proact::callback_op;
  friend class proact::timer;
  friend struct loop_access;
  friend class tls_stream_state;

  finish_fn finish_;
  strand* strand_ = nullptr;   // callbacks serialized through this strand
  loop_node* next_ = nullptr;  // strand queue link
  std::size_t result_bytes_ = 0;
  std::error_code result_error_;
};

// True if h is associated with a loop (its completions reach a loop).
PROACT_API bool on_loop(const handle& h) noexcept;

}  // namespace detail
}  // namespace proact
