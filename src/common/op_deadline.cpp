// op_deadline: operations cancelled by their loop's threads, in their wait on
// the port, when their deadline passes.
#include "proact/detail/op_deadline.hpp"

#include <mutex>
#include <system_error>

#include "common/timer_service.hpp"
#include "proact/error.hpp"
#include "proact/handle.hpp"
#include "proact/loop.hpp"

namespace proact::detail {

namespace {
std::error_code cancel_on_handle(void* target, operation& op) {
  return static_cast<handle*>(target)->cancel(op);
}
}  // namespace

std::error_code op_deadline::start(loop& l, clock::time_point at, handle& h, operation& op,
                                   start_fn start_op, void* context) {
  return start(l, at, &h, &cancel_on_handle, op, start_op, context);
}

std::error_code op_deadline::start(loop& l, clock::time_point at, void* target, cancel_fn cancel,
                                   operation& op, start_fn start_op, void* context) {
  timer_service& service = timers_of(l);
  deadline_ = at;
  target_ = target;
  cancel_ = cancel;
  op_ = &op;
  fired_ = false;
  // Set before the start: a completion on another thread concludes through
  // the service's lock, which waits for the end of this call.
  service_ = &service;
  return service.start_with_deadline(*this, [&](bool& arm) {
    std::error_code ec = start_op(context);
    arm = !ec && !op.completed_at_start();
    if (!arm) service_ = nullptr;  // no completion will come to conclude it
    return ec;
  });
}

void op_deadline::conclude(std::error_code& ec) noexcept {
  if (service_ == nullptr) return;
  service_->remove_if_armed(*this);  // also waits out an expire() running now
  service_ = nullptr;
  if (fired_ && ec == errc::operation_aborted) ec = make_error_code(error::timed_out);
}

void op_deadline::expire(timer_entry& self) {
  auto& me = static_cast<op_deadline&>(self);
  me.fired_ = true;
  // not_found if it completed meanwhile: its completion keeps its own result.
  (void)me.cancel_(me.target_, *me.op_);
}

}  // namespace proact::detail
