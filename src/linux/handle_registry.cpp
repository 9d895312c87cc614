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
