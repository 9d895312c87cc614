// The awaitable form of tls_stream operations: io_awaitable's handshake
// between the suspending coroutine and the completion, with the stream (not
// a handle) as what cancels the operation.
#include <thread>

#include "proact/error.hpp"
#include "proact/tls.hpp"

namespace proact::detail {

bool tls_awaitable_base::suspend(std::coroutine_handle<> waiter, std::stop_token stop,
                                 loop* owner) {
  waiter_ = waiter;
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
    start_error = deadline_.start(*owner, deadline_at_, stream_, &cancel_for_deadline, *this,
                                  &start_for_deadline, this);
  } else {
    start_error = start_(*this);
  }
  if (start_error) {
    result_ = {start_error, 0};
    return false;
  }
  // The completion resumes the coroutine only after the arrival below.
  if (stop.stop_possible()) on_stop_.emplace(std::move(stop), canceller{this});
  if (arrivals_.fetch_add(1, std::memory_order_acq_rel) == 0) return true;
  deadline_.conclude(result_.error);
  settle();
  return false;
}

std::error_code tls_awaitable_base::start_for_deadline(void* self) {
  auto& me = *static_cast<tls_awaitable_base*>(self);
  return me.start_(me);
}

std::error_code tls_awaitable_base::cancel_for_deadline(void* stream, operation& op) {
  return static_cast<tls_stream*>(stream)->cancel(op);
}

void tls_awaitable_base::canceller::operator()() const noexcept {
  self->cancelling_.store(true, std::memory_order_release);
  (void)self->stream_->cancel(*self);
  self->cancelling_.store(false, std::memory_order_release);
}

void tls_awaitable_base::settle() noexcept {
  while (cancelling_.load(std::memory_order_acquire)) std::this_thread::yield();
  on_stop_.reset();
}

void tls_awaitable_base::finish(loop_node& self, std::size_t bytes, std::error_code ec) {
  auto& me = static_cast<tls_awaitable_base&>(self);
  me.result_ = {ec, bytes};
  if (me.arrivals_.fetch_add(1, std::memory_order_acq_rel) == 1) {
    me.deadline_.conclude(me.result_.error);
    me.settle();
    me.waiter_.resume();
  }
}

}  // namespace proact::detail
