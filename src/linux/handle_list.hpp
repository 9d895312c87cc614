// handle_list: the port's list of associated, open handles, linked through
// `prev_registered` / `next_registered` / `registered` in the backend's
// per-handle state, so that closing the port can reach every pending
// operation. The caller holds its registry lock around every call.
#pragma once

namespace proact::detail {

template <class Handle>
class handle_list {
 public:
  Handle* front() const noexcept { return head_; }

  void push(Handle& h) noexcept {
    h.prev_registered = nullptr;
    h.next_registered = head_;
    if (head_ != nullptr) head_->prev_registered = &h;
    head_ = &h;
    h.registered = true;
  }

  // Unlinks h; nothing happens if it is not on the list (any more).
  void remove(Handle& h) noexcept {
    if (!h.registered) return;
    if (h.prev_registered != nullptr) h.prev_registered->next_registered = h.next_registered;
    if (h.next_registered != nullptr) h.next_registered->prev_registered = h.prev_registered;
    if (head_ == &h) head_ = h.next_registered;
    h.prev_registered = h.next_registered = nullptr;
    h.registered = false;
  }

 private:
  Handle* head_ = nullptr;
};

}  // namespace proact::detail
