// What both Linux backends are besides their kernel interface: a port whose
// queue, threads and waiting are the completion engine's (the backend is its
// event source), and the registry of associated handles.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <mutex>
#include <new>
#include <system_error>

#include "common/pool_state.hpp"
#include "linux/completion_engine.hpp"
#include "linux/handle_registry.hpp"
#include "linux/linux_handle.hpp"

namespace proact::detail {

// NOLINTNEXTLINE(cppcoreguidelines-virtual-class-destructor): destroyed only by release()
class linux_backend : public port_backend, protected event_source {
 public:
  unsigned concurrency() const noexcept final { return engine_.concurrency(); }
  bool handle_open(const io_handle& h) const noexcept final {
    return static_cast<const linux_handle&>(h).open.load(std::memory_order_acquire);
  }
  std::error_code shutdown_send(io_handle& h) final {
    auto& s = static_cast<linux_handle&>(h);
    std::lock_guard lock(s.lock);
    return detail::shutdown_send(s);
  }
  std::error_code skip_completion_on_success(io_handle& h) final {
    auto& s = static_cast<linux_handle&>(h);
    std::lock_guard lock(s.lock);
    return detail::skip_completion_on_success(s);
  }
  std::error_code post(std::uintptr_t key, std::size_t bytes, operation* op) final {
    return engine_.post(completion{key, op, bytes, {}});
  }
  std::error_code wait(std::span<completion> out, std::size_t& count, timeout t) final {
    return engine_.wait(out, count, t);
  }

 protected:
  linux_backend(unsigned concurrency, std::size_t handle_size) noexcept
      : engine_(*this, *this, concurrency), registry_(handle_size) {}
  ~linux_backend() override = default;

  // associate(): a new Handle, in the registry, once `register_fd(handle)`
  // (whatever the kernel must know of it) succeeded.
  template <class Handle, class Register>
  std::error_code add_handle(native_handle_type fd, handle_kind kind, address_family family,
                             std::uintptr_t key, io_handle*& out, Register&& register_fd) {
    std::lock_guard registry(registry_.lock());
    if (closed()) return make_error_code(error::port_closed);
    void* storage = registry_.take_storage_locked();
    if (storage == nullptr) return native_error(ENOMEM);
    auto* h = ::new (storage) Handle(*this, fd, kind, key, family);
    if (std::error_code ec = register_fd(*h)) {
      h->~Handle();
      registry_.give_storage_locked(storage);
      return ec;
    }
    registry_.add_locked(*h);
    add_ref();  // the handle keeps the backend alive
    out = h;
    return {};
  }

  // close(): true for the one call that closes the port.
  bool mark_closed() noexcept { return !closed_.exchange(true, std::memory_order_acq_rel); }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  // Calls f(Handle&) with each open handle's lock held. Operations started
  // before the port was marked closed hold their handle's lock while
  // starting: taking each lock in turn lets them finish first.
  template <class Handle, class F>
  void for_each_open_handle(F&& f) {
    std::lock_guard registry(registry_.lock());
    registry_.for_each_locked([&](linux_handle& h) {
      std::lock_guard lock(h.lock);
      f(static_cast<Handle&>(h));
    });
  }

  // An operation that ended during its start call: through the port (item 2),
  // or straight back to the caller in skip-completion-on-success mode (never
  // a pooled recv: where the kernel picks the buffer, its result is only
  // known from the completion queue).
  std::error_code finish_at_start(linux_handle& h, operation& op, io_result& r) noexcept {
    if (!h.is_file()) settle(h, op, r);
    if (h.skip_on_success && pool_of(op) == nullptr) {
      op_access::complete_at_start(op, r.bytes, r.error);
      op_access::end(op);
    } else {
      const completion c = completion_for(op, r.bytes, r.error);
      engine_.deliver(std::span<const completion>(&c, 1));
    }
    return {};
  }

  // Operations on a queue or in the kernel: while there are any, a wait
  // must look at the kernel.
  void operation_pending() noexcept { pending_ops_.fetch_add(1, std::memory_order_relaxed); }
  void operation_done() noexcept { pending_ops_.fetch_sub(1, std::memory_order_relaxed); }
  bool has_pending_io() const noexcept final {
    return pending_ops_.load(std::memory_order_relaxed) != 0;
  }

  completion_engine engine_;
  handle_registry registry_;

 private:
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> pending_ops_{0};
};

// Creates a Backend (a linux_backend with init()) for the backend factory.
template <class Backend>
std::error_code create_linux_backend(unsigned concurrency, port_backend*& out) {
  auto* backend = new (std::nothrow) Backend(concurrency);
  if (backend == nullptr) return native_error(ENOMEM);
  if (std::error_code ec = backend->init()) {
    backend->release();
    return ec;
  }
  out = backend;
  return {};
}

}  // namespace proact::detail
