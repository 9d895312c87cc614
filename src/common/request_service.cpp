#include "common/request_service.hpp"

#include "proact/error.hpp"

namespace proact::detail {

void service_request::finish(loop_node& self, std::size_t, std::error_code ec) {
  auto& r = static_cast<service_request&>(self);
  r.service_->deliver(r, ec);
}

std::error_code request_service::begin_locked(service_request& r) {
  if (shut_down_) {
    delete &r;
    return make_error_code(error::port_closed);
  }
  r.service_ = this;
  r.prev_ = nullptr;
  r.next_ = pending_;
  if (pending_ != nullptr) pending_->prev_ = &r;
  pending_ = &r;
  return {};
}

void request_service::unlink_locked(service_request& r) noexcept {
  if (r.prev_ != nullptr) {
    r.prev_->next_ = r.next_;
  } else {
    pending_ = r.next_;
  }
  if (r.next_ != nullptr) r.next_->prev_ = r.prev_;
  r.prev_ = r.next_ = nullptr;
}

bool request_service::complete_locked(service_request& r, std::error_code ec,
                                      std::unique_lock<std::mutex>& lock) {
  if (r.done_) return false;
  r.done_ = true;
  unlink_locked(r);
  if (!loop_services::post(loop_, r, 0, ec)) return true;
  // The port was closed under the loop (share_port): the outcome is still
  // delivered, once, here.
  lock.unlock();
  deliver(r, ec);
  lock.lock();
  return true;
}

void request_service::release_locked(service_request& r) noexcept {
  if (--r.refs_ == 0) delete &r;
}

void request_service::deliver(service_request& r, std::error_code ec) {
  std::unique_lock lock(mutex_);
  void* owner = r.owner_;
  if (owner != nullptr) {
    r.settle_locked();
    running_call call{owner, std::this_thread::get_id(), calls_};
    calls_ = &call;
    lock.unlock();
    r.call(ec);
    lock.lock();
    for (running_call** c = &calls_; *c != nullptr; c = &(*c)->next) {
      if (*c == &call) {
        *c = call.next;
        break;
      }
    }
    calls_done_.notify_all();
  }
  release_locked(r);
}

void request_service::abandon(void* owner, service_request* r) noexcept {
  std::unique_lock lock(mutex_);
  if (r != nullptr) {
    r->owner_ = nullptr;
    if (!r->done_) {
      // Never queued now: the pending list's reference goes (a worker may
      // still hold its own).
      r->done_ = true;
      unlink_locked(*r);
      release_locked(*r);
    }
  }
  // A handler call on this thread (the owner destroyed from its own
  // handler) goes on without it; one on another thread is waited for.
  calls_done_.wait(lock, [&] {
    for (running_call* c = calls_; c != nullptr; c = c->next)
      if (c->owner == owner && c->thread != std::this_thread::get_id()) return false;
    return true;
  });
}

void request_service::shutdown() noexcept {
  std::unique_lock lock(mutex_);
  shut_down_ = true;
  while (pending_ != nullptr)
    (void)complete_locked(*pending_, make_error_code(error::operation_aborted), lock);
}

}  // namespace proact::detail
