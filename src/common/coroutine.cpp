// The out-of-line parts of the coroutine support: awaiting an operation,
// and finishing a spawned task.
#include <cstdio>
#include <exception>
#include <thread>

#include "common/handle_access.hpp"
#include "proact/error.hpp"
#include "proact/handle.hpp"
#include "proact/task.hpp"

namespace proact::detail {

bool on_loop(const handle& h) noexcept {
  const io_handle* io = handle_access::io(h);
  return io != nullptr && io->key == loop_io_key;
}

namespace {
std::error_code cancel_on_handle(void* target, operation& op) {
  return static_cast<handle*>(target)->cancel(op);
}
}  // namespace

io_awaitable_base::io_awaitable_base(handle& h, start_fn start) noexcept
    : io_awaitable_base(&h, &cancel_on_handle, start) {
  handle_ = &h;
}

bool io_awaitable_base::suspend(std::coroutine_handle<> waiter, std::stop_token stop, loop* owner) {
  waiter_ = waiter;
  if (handle_ != nullptr && !on_loop(*handle_)) {
    // Its completion would go to a port nobody resumes coroutines from.
    result_ = {make_error_code(handle_access::io(*handle_) == nullptr ? error::not_associated
                                                                      : error::not_on_loop),
               0};
    return false;
  }
  if (stop.stop_requested()) {
    result_ = {make_error_code(error::operation_aborted), 0};
    return false;
  }
  std::error_code start_error;
  if (has_deadline_) {
    if (owner == nullptr) {  // no loop to time it on
      result_ = {make_error_code(error::not_associated), 0};
      return false;
    }
    if (deadline_at_ <= std::chrono::steady_clock::now()) {
      result_ = {make_error_code(error::timed_out), 0};
      return false;
    }
    start_error =
        deadline_.start(*owner, deadline_at_, target_, cancel_, *this, &start_for_deadline, this);
  } else {
    start_error = start_(*this);
  }
  if (start_error) {
    result_ = {start_error, 0};
    return false;
  }
  if (completed_at_start()) {  // skip_completion_on_success: no packet comes
    const completion c = result();
    result_ = {c.error, c.bytes};
    return false;
  }
  // From here the completion may already be running on another thread; it
  // resumes the coroutine only after the arrival below, so this frame stays
  // ours until then. A stop request cancels the started operation.
  if (stop.stop_possible()) on_stop_.emplace(std::move(stop), canceller{this});
  if (arrivals_.fetch_add(1, std::memory_order_acq_rel) == 0) return true;
  conclude();  // completed already: the coroutine goes on here
  return false;
}

std::error_code io_awaitable_base::start_for_deadline(void* self) {
  auto& me = *static_cast<io_awaitable_base*>(self);
  return me.start_(me);
}

void io_awaitable_base::conclude() noexcept {
  deadline_.conclude(result_.error);
  settle();
}

void io_awaitable_base::canceller::operator()() const noexcept {
  self->cancelling_.store(true, std::memory_order_release);
  (void)self->cancel_(self->target_, *self);
  self->cancelling_.store(false, std::memory_order_release);
}

void io_awaitable_base::settle() noexcept {
  while (cancelling_.load(std::memory_order_acquire)) std::this_thread::yield();
  on_stop_.reset();
}

void io_awaitable_base::finish(loop_node& self, std::size_t bytes, std::error_code ec) {
  auto& me = static_cast<io_awaitable_base&>(self);
  me.result_ = {ec, bytes};
  if (me.arrivals_.fetch_add(1, std::memory_order_acq_rel) == 1) {
    me.conclude();
    me.waiter_.resume();
  }
}

void promise_base::finish_spawned(spawn_record& r, const std::exception_ptr& failure) noexcept {
  if (failure) {
    std::fputs("proact: an exception escaped a task started with loop::spawn\n", stderr);
    std::terminate();
  }
  r.owner->spawn_finished(r);
}

}  // namespace proact::detail
