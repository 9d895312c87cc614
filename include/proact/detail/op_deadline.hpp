// op_deadline: the deadline of one started operation, an entry of its loop's
// timer heap. When the deadline passes before the operation completed, the
// loop thread watching the timers cancels the operation in its wait, and its
// completion then reports errc::timed_out instead of operation_aborted.
// Embedded in the operation's owner (an awaitable in a coroutine frame, a
// callback_op): arming and disarming allocate nothing.
#pragma once

#include <system_error>

#include "proact/detail/timer_entry.hpp"
#include "proact/export.hpp"

namespace proact {

class handle;
class loop;
class operation;

namespace detail {

class PROACT_API op_deadline final : public timer_entry {
 public:
  using start_fn = std::error_code (*)(void* context);
  // Cancels `op` on `target` (a handle, or a stream layered over one).
  using cancel_fn = std::error_code (*)(void* target, operation& op);

  op_deadline() noexcept : timer_entry(&expire) {}
  op_deadline(const op_deadline&) = delete;
  op_deadline& operator=(const op_deadline&) = delete;
  ~op_deadline() = default;

  // Runs start_op(context), which starts `op` on `h`, and arms the deadline if
  // the start succeeded (and `op` did not complete during it). The timer
  // heap is locked across the start, so the deadline cannot pass between
  // the two and the completion cannot be concluded before it is armed.
  std::error_code start(loop& l, clock::time_point at, handle& h, operation& op, start_fn start_op,
                        void* context);
  // The same for an operation of another owner, cancelled by cancel(target, op).
  std::error_code start(loop& l, clock::time_point at, void* target, cancel_fn cancel,
                        operation& op, start_fn start_op, void* context);
  // At the completion, before anyone sees it: disarms the deadline and, if it
  // passed, turns the cancellation it caused into errc::timed_out. Once this
  // returned the loop's timers no longer touch the operation.
  void conclude(std::error_code& ec) noexcept;
  bool active() const noexcept { return service_ != nullptr; }

 private:
  static void expire(timer_entry& self);

  timer_service* service_ = nullptr;
  void* target_ = nullptr;
  cancel_fn cancel_ = nullptr;
  operation* op_ = nullptr;
  bool fired_ = false;
};

}  // namespace detail
}  // namespace proact
