// signal_set: the process-wide registry of the sets that hold each signal,
// fed by the platform layer (sys::catch_signal), and the per-loop service
// through which arrivals complete waits on the loop's port.
//
// Locks, always in this order: the registry's, then a loop's signal service's.
// The platform layer's own lock is never held while taking either (its
// release may wait for a running arrival, which takes them).
#include "proact/signal_set.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <new>
#include <vector>

#include "common/request_service.hpp"
#include "common/sys_signal.hpp"
#include "proact/error.hpp"
#include "proact/loop.hpp"

namespace proact {
namespace detail {

namespace {

// The slot of a portable signal in a set's arrays; -1 if it is not one.
int slot_of(int signal) noexcept {
  switch (signal) {
    case signal_set::hangup:
      return 0;
    case signal_set::interrupt:
      return 1;
    case signal_set::terminate:
      return 2;
    default:
      return -1;
  }
}

constexpr int signal_of_slot[] = {signal_set::hangup, signal_set::interrupt, signal_set::terminate};

}  // namespace

class signal_request final : public service_request {
 public:
  explicit signal_request(signal_set& owner) noexcept : service_request(&owner) {}
  int signal = 0;  // the outcome, set before it is decided

 private:
  void settle_locked() noexcept override { static_cast<signal_set*>(owner())->request_ = nullptr; }
  void call(std::error_code ec) override {
    auto& s = *static_cast<signal_set*>(owner());
    s.pending_.store(false, std::memory_order_release);
    s.handler_(ec, signal);
  }
};

class signal_service final : public request_service {
 public:
  explicit signal_service(loop& l) noexcept : request_service(l) {}

  std::error_code start(signal_set& s) {
    auto* r = new (std::nothrow) signal_request(s);
    if (r == nullptr) return std::make_error_code(std::errc::not_enough_memory);
    std::unique_lock lock(mutex());
    if (std::error_code ec = begin_locked(*r)) return ec;
    s.request_ = r;
    // An arrival that no wait took yet completes this one at once.
    for (int i = 0; i < signal_set::slots; ++i) {
      if (s.arrived_[i] != 0) {
        --s.arrived_[i];
        r->signal = signal_of_slot[i];
        (void)complete_locked(*r, {}, lock);
        break;
      }
    }
    return {};
  }

  // Under the registry's lock.
  void arrive(signal_set& s, int slot) {
    std::unique_lock lock(mutex());
    if (!s.caught_[slot]) return;
    signal_request* r = s.request_;
    if (r != nullptr && !r->done()) {
      r->signal = signal_of_slot[slot];
      (void)complete_locked(*r, {}, lock);
    } else if (s.arrived_[slot] != std::numeric_limits<std::uint32_t>::max()) {
      ++s.arrived_[slot];
    }
  }

  void set_caught(signal_set& s, int slot, bool caught) {
    std::lock_guard lock(mutex());
    s.caught_[slot] = caught;
    if (!caught) s.arrived_[slot] = 0;
  }

  std::error_code cancel(signal_set& s) {
    std::unique_lock lock(mutex());
    if (s.request_ == nullptr || s.request_->done()) return make_error_code(error::not_found);
    (void)complete_locked(*s.request_, make_error_code(error::operation_aborted), lock);
    return {};
  }

  void destroy(signal_set& s) noexcept {
    signal_request* r = nullptr;
    {
      std::lock_guard lock(mutex());
      r = s.request_;
      s.request_ = nullptr;
    }
    abandon(&s, r);
  }
};

// The sets that hold each signal, process-wide. Never destroyed: an arrival
// may come while static objects are being destroyed.
struct signal_registry {
  std::mutex mutex;
  std::vector<signal_set*> sets[signal_set::slots];

  static signal_registry& instance() {
    static signal_registry* registry = new signal_registry;  // NOLINT: intentionally leaked
    return *registry;
  }

  // The platform layer reports an arrival.
  static void deliver(int signal) {
    const int slot = slot_of(signal);
    if (slot < 0) return;
    signal_registry& r = instance();
    std::lock_guard lock(r.mutex);
    for (signal_set* s : r.sets[slot])
      if (s->service_) s->service_->arrive(*s, slot);
  }

  // True if s did not hold it and holds it now.
  bool add(signal_set& s, int slot) {
    std::lock_guard lock(mutex);
    auto& list = sets[slot];
    if (std::find(list.begin(), list.end(), &s) != list.end()) return false;
    list.push_back(&s);
    s.service_->set_caught(s, slot, true);
    return true;
  }

  bool remove(signal_set& s, int slot) {
    std::lock_guard lock(mutex);
    auto& list = sets[slot];
    auto it = std::find(list.begin(), list.end(), &s);
    if (it == list.end()) return false;
    list.erase(it);
    s.service_->set_caught(s, slot, false);
    return true;
  }
};

}  // namespace detail

signal_set::signal_set(loop& l)
    : loop_(l), service_(detail::loop_services::get<detail::signal_service>(l)) {}

signal_set::signal_set(loop& l, std::initializer_list<int> signals) : signal_set(l) {
  for (int signal : signals) {
    if (std::error_code ec = add(signal)) {
      clear();
      throw std::system_error(ec, "proact::signal_set: cannot add a signal");
    }
  }
}

signal_set::~signal_set() {
  clear();
  if (service_) service_->destroy(*this);
}

std::error_code signal_set::add(int signal) {
  const int slot = detail::slot_of(signal);
  if (slot < 0) return make_error_code(error::invalid_argument);
  // No service: the loop was stopped when this set was made.
  if (!service_) return make_error_code(error::port_closed);
  // Caught before the set joins the registry (and outside its lock: see the
  // lock order above); undone if the set held it already.
  if (std::error_code ec = detail::sys::catch_signal(signal, &detail::signal_registry::deliver))
    return ec;
  if (!detail::signal_registry::instance().add(*this, slot)) detail::sys::release_signal(signal);
  return {};
}

std::error_code signal_set::remove(int signal) {
  const int slot = detail::slot_of(signal);
  if (slot < 0) return make_error_code(error::invalid_argument);
  if (!service_ || !detail::signal_registry::instance().remove(*this, slot))
    return make_error_code(error::not_found);
  detail::sys::release_signal(signal);
  return {};
}

void signal_set::clear() noexcept {
  for (int signal : detail::signal_of_slot) (void)remove(signal);
}

std::error_code signal_set::start() {
  std::error_code ec = service_ ? service_->start(*this) : make_error_code(error::port_closed);
  if (ec) {
    handler_.reset();
    pending_.store(false, std::memory_order_release);
  }
  return ec;
}

std::error_code signal_set::cancel() {
  if (!service_) return make_error_code(error::not_found);
  return service_->cancel(*this);
}

}  // namespace proact
