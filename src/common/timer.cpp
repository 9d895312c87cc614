// timer: arming, cancelling and destroying go through the loop's timer
// service (timer_service.cpp), which expires it.
#include "proact/timer.hpp"

#include <system_error>

#include "common/timer_service.hpp"
#include "proact/loop.hpp"

namespace proact {

timer::~timer() {
  loop_.timers().destroy(*this);
}

std::error_code timer::arm(clock::time_point deadline, clock::duration interval) {
  deadline_ = deadline;
  interval_ = interval;
  std::error_code ec = loop_.timers().arm(*this);
  if (ec) {
    handler_.reset();
    pending_.store(false, std::memory_order_release);
  }
  return ec;
}

std::error_code timer::cancel() {
  return loop_.timers().cancel(*this);
}

void timer::expire(timer_entry& self) {
  auto& t = static_cast<timer&>(self);
  t.loop_.timers().expire_timer(t);
}

}  // namespace proact
