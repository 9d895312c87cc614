// handle: the base of every I/O object (sockets, files, local streams). A
// handle is opened, then associated with exactly one port; its operations then
// complete on that port with the handle's completion key.
//
// Lifetime: an operation's buffers (and, for scatter/gather, the span of
// buffers itself) must stay valid until its completion is dequeued. close()
// completes every pending operation with errc::operation_aborted. Destroying
// a handle closes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <system_error>

#include "proact/detail/config.hpp"
#include "proact/endpoint.hpp"
#include "proact/export.hpp"
#include "proact/operation.hpp"

namespace proact {

namespace detail {
class io_handle;
struct handle_access;
}  // namespace detail

class PROACT_API handle {
 public:
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  handle(handle&& other) noexcept;
  handle& operator=(handle&& other) noexcept;
  ~handle();

  bool is_open() const noexcept;
  bool is_associated() const noexcept { return io_.load(std::memory_order_acquire) != nullptr; }
  native_handle_type native_handle() const noexcept { return fd_.load(std::memory_order_acquire); }
  address_family family() const noexcept { return family_; }

  // Cancels one pending operation of this handle: it completes with
  // errc::operation_aborted. errc::not_found if it is not pending here
  // (already completed, never started, or another handle's).
  [[nodiscard]] std::error_code cancel(operation& op);
  // Cancels every pending operation of this handle; not_found if there was none.
  [[nodiscard]] std::error_code cancel();
  // Closes the handle; pending operations complete with operation_aborted.
  [[nodiscard]] std::error_code close();

  // Opts in to FILE_SKIP_COMPLETION_PORT_ON_SUCCESS semantics: from now on an
  // operation of this handle that completes during its start call queues no
  // packet; the start call returns success, operation::completed_at_start()
  // is true and operation::result() holds the outcome. One that goes pending
  // completes through the port as usual. The handle must be associated; the
  // mode cannot be turned off again.
  [[nodiscard]] std::error_code skip_completion_on_success();

 protected:
  handle() noexcept = default;

 private:
  friend struct detail::handle_access;
  void reset() noexcept;

  std::atomic<native_handle_type> fd_{invalid_native_handle};
  std::atomic<detail::io_handle*> io_{nullptr};
  address_family family_ = address_family::unspecified;
  std::uint8_t kind_ = 0;  // detail::handle_kind, set when opened
  // tcp_socket: the target of an accept in flight (it must not be the
  // target of another one, nor be opened or associated, until then).
  std::atomic<bool> accept_target_{false};
};

}  // namespace proact
