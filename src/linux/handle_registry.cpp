#include "linux/handle_registry.hpp"

#include <new>

namespace proact::detail {

handle_registry::~handle_registry() {
  while (spares_ != nullptr) {
    spare* next = spares_->next;
    ::operator delete(spares_);
    spares_ = next;
  }
}

void handle_registry::add_locked(linux_handle& h) noexcept {
  h.prev_registered = nullptr;
  h.next_registered = open_;
  if (open_ != nullptr) open_->prev_registered = &h;
  open_ = &h;
  h.registered = true;
}

void handle_registry::remove_locked(linux_handle& h) noexcept {
  if (!h.registered) return;
  if (h.prev_registered != nullptr) h.prev_registered->next_registered = h.next_registered;
  if (h.next_registered != nullptr) h.next_registered->prev_registered = h.prev_registered;
  if (open_ == &h) open_ = h.next_registered;
  h.prev_registered = h.next_registered = nullptr;
  h.registered = false;
}

void* handle_registry::take_storage_locked() noexcept {
  if (spare* s = spares_) {
    spares_ = s->next;
    --spare_count_;
    return s;
  }
  return ::operator new(handle_size_, std::nothrow);
}

void handle_registry::give_storage_locked(void* storage) noexcept {
  if (spare_count_ == max_spares) {
    ::operator delete(storage);
    return;
  }
  spares_ = ::new (storage) spare{spares_};
  ++spare_count_;
}

}  // namespace proact::detail
