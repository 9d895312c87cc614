// Backend-side access to proact::handle internals.
#pragma once

#include "common/backend.hpp"
#include "proact/socket.hpp"

namespace proact::detail {

struct handle_access {
  static native_handle_type fd(const handle& h) noexcept {
    return h.fd_.load(std::memory_order_acquire);
  }
  static void set_fd(handle& h, native_handle_type fd, address_family family,
                     bool listener) noexcept {
    h.family_ = family;
    h.listener_ = listener;
    h.fd_.store(fd, std::memory_order_release);
  }
  static handle_kind kind(const handle& h) noexcept {
    return h.listener_ ? handle_kind::tcp_listener : handle_kind::tcp_stream;
  }
  static io_handle* io(const handle& h) noexcept { return h.io_.load(std::memory_order_acquire); }
  static void reset(handle& h) noexcept { h.reset(); }
  // Publishes the association once; false if the handle already has one.
  static bool try_set_io(handle& h, io_handle* io) noexcept {
    io_handle* none = nullptr;
    return h.io_.compare_exchange_strong(none, io, std::memory_order_acq_rel);
  }
};

}  // namespace proact::detail
