// handler_storage: a type-erased callable kept inside the object that owns
// it (an operation, a timer, a posted node). Callables up to `inline_size`
// bytes live in place; a larger one is allocated once when it is stored and
// reused for every completion until it is replaced, so steady-state
// completions allocate nothing.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace proact::detail {

template <class Signature, std::size_t InlineSize>
class handler_storage;

template <class R, class... Args, std::size_t InlineSize>
class handler_storage<R(Args...), InlineSize> {
 public:
  static constexpr std::size_t inline_size = InlineSize;

  handler_storage() noexcept = default;
  handler_storage(const handler_storage&) = delete;
  handler_storage& operator=(const handler_storage&) = delete;
  ~handler_storage() { reset(); }

  template <class F>
  void emplace(F&& f) {
    using T = std::decay_t<F>;
    static_assert(std::is_invocable_r_v<R, T&, Args...>, "handler has the wrong signature");
    reset();
    if constexpr (fits<T>) {
      ::new (static_cast<void*>(buf_)) T(std::forward<F>(f));
      call_ = [](void* p, Args... a) -> R {
        return (*static_cast<T*>(p))(std::forward<Args>(a)...);
      };
      destroy_ = [](void* p) noexcept { static_cast<T*>(p)->~T(); };
      target_ = buf_;
    } else {
      T* heap = new T(std::forward<F>(f));
      call_ = [](void* p, Args... a) -> R {
        return (*static_cast<T*>(p))(std::forward<Args>(a)...);
      };
      destroy_ = [](void* p) noexcept { delete static_cast<T*>(p); };
      target_ = heap;
    }
  }

  void reset() noexcept {
    if (destroy_ != nullptr) destroy_(target_);
    call_ = nullptr;
    destroy_ = nullptr;
    target_ = nullptr;
  }

  explicit operator bool() const noexcept { return call_ != nullptr; }
  R operator()(Args... a) { return call_(target_, std::forward<Args>(a)...); }

 private:
  template <class T>
  static constexpr bool fits =
      sizeof(T) <= InlineSize &&
      alignof(T) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<T>;

  alignas(std::max_align_t) unsigned char buf_[InlineSize];
  R (*call_)(void*, Args...) = nullptr;
  void (*destroy_)(void*) noexcept = nullptr;
  void* target_ = nullptr;
};

}  // namespace proact::detail
