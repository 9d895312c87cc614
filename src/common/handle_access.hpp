// Backend-side access to proact::handle internals.
#pragma once

#include <cstdint>
#include <thread>

#include "common/backend.hpp"
#include "proact/socket.hpp"

namespace proact::detail {

struct handle_access {
  static native_handle_type fd(const handle& h) noexcept {
    return h.fd_.load(std::memory_order_acquire);
  }
  static void set_fd(handle& h, native_handle_type fd, address_family family,
                     handle_kind kind) noexcept {
    h.family_ = family;
    h.kind_ = static_cast<std::uint8_t>(kind);
    h.fd_.store(fd, std::memory_order_release);
  }
  // Replaces the native handle of an associated handle (disconnect on a
  // backend that must reopen the socket to make it reusable).
  static void replace_fd(handle& h, native_handle_type fd) noexcept {
    h.fd_.store(fd, std::memory_order_release);
  }
  // Gives up ownership of an unassociated handle's native handle.
  static native_handle_type take_fd(handle& h) noexcept {
    return h.fd_.exchange(invalid_native_handle, std::memory_order_acq_rel);
  }
  static handle_kind kind(const handle& h) noexcept { return static_cast<handle_kind>(h.kind_); }
  // While one thread associates a handle, io_ holds this marker: other
  // associates see "already associated", operations "not associated yet".
  static io_handle* associating() noexcept {
    static_assert(alignof(io_handle) > 1);
    // A sentinel, never a real address (never dereferenced).
    return reinterpret_cast<io_handle*>(std::uintptr_t{1});  // NOLINT(performance-no-int-to-ptr)
  }
  static io_handle* io(const handle& h) noexcept {
    io_handle* io = h.io_.load(std::memory_order_acquire);
    return io == associating() ? nullptr : io;
  }
  // Claims the handle for associate(); false if it is associated or being so.
  static bool try_claim(handle& h) noexcept {
    io_handle* none = nullptr;
    return h.io_.compare_exchange_strong(none, associating(), std::memory_order_acq_rel);
  }
  static void publish(handle& h, io_handle* io) noexcept {
    h.io_.store(io, std::memory_order_release);
  }
  // Waits out an associate() in progress on another thread (it never blocks).
  static void wait_for_claim(const handle& h) noexcept {
    while (h.io_.load(std::memory_order_acquire) == associating()) std::this_thread::yield();
  }
  static void reset(handle& h) noexcept { h.reset(); }
  // An accept claims its target socket until its completion is out.
  static bool claim_as_accept_target(handle& h) noexcept {
    return !h.accept_target_.exchange(true, std::memory_order_acq_rel);
  }
  static void release_accept_target(handle& h) noexcept {
    h.accept_target_.store(false, std::memory_order_release);
  }
};

}  // namespace proact::detail
