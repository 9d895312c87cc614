// The public port: argument checks and the operations' in-flight flags; the
// backend does the rest.
#include "proact/port.hpp"

#include <utility>

#include "common/backend.hpp"
#include "common/handle_access.hpp"
#include "common/op_access.hpp"
#include "proact/error.hpp"
#include "proact/socket.hpp"

namespace proact {

using detail::handle_access;
using detail::op_access;

std::string_view to_string(backend_kind kind) noexcept {
  switch (kind) {
    case backend_kind::automatic:
      return "automatic";
    case backend_kind::epoll:
      return "epoll";
    case backend_kind::io_uring:
      return "io_uring";
    case backend_kind::iocp:
      return "iocp";
  }
  return "unknown";
}

backend_kind backend_from_string(std::string_view name, std::error_code& ec) noexcept {
  ec.clear();
  if (name.empty() || name == "auto" || name == "automatic") return backend_kind::automatic;
  if (name == "epoll") return backend_kind::epoll;
  if (name == "io_uring" || name == "uring") return backend_kind::io_uring;
  if (name == "iocp") return backend_kind::iocp;
  ec = make_error_code(error::invalid_argument);
  return backend_kind::automatic;
}

port::port(const port_options& options) {
  if (auto ec = open(options)) throw std::system_error(ec, "proact::port");
}

port::port(port&& other) noexcept : backend_(std::exchange(other.backend_, nullptr)) {}

port& port::operator=(port&& other) noexcept {
  if (this != &other) {
    if (backend_) {
      backend_->close();
      backend_->release();
    }
    backend_ = std::exchange(other.backend_, nullptr);
  }
  return *this;
}

port::~port() {
  if (backend_) {
    backend_->close();
    backend_->release();
  }
}

std::error_code port::open(const port_options& options) {
  if (backend_) return make_error_code(error::invalid_argument);  // already open
  return detail::create_backend(options, backend_);
}

std::error_code port::associate(handle& h, std::uintptr_t key) {
  if (!backend_) return make_error_code(error::port_closed);
  if (!handle_access::try_claim(h)) {
    return make_error_code(handle_access::fd(h) == invalid_native_handle
                               ? error::bad_handle
                               : error::already_associated);
  }
  const native_handle_type fd = handle_access::fd(h);
  detail::io_handle* io = nullptr;
  std::error_code ec = fd == invalid_native_handle
                           ? make_error_code(error::bad_handle)
                           : backend_->associate(fd, handle_access::kind(h), h.family(), key, io);
  handle_access::publish(h, ec ? nullptr : io);
  return ec;
}

std::error_code port::post(std::uintptr_t key, std::size_t bytes, operation* op) {
  if (!backend_) return make_error_code(error::port_closed);
  if (op != nullptr) {
    if (!op_access::try_begin(*op)) return make_error_code(error::operation_in_progress);
    op_access::set_kind(*op, detail::op_kind::post);
  }
  auto ec = backend_->post(key, bytes, op);
  if (ec && op != nullptr) op_access::end(*op);
  return ec;
}

std::error_code port::wait(completion& out, timeout t) {
  std::size_t count = 0;
  return wait_many(std::span<completion>(&out, 1), count, t);
}

std::error_code port::wait_many(std::span<completion> out, std::size_t& count, timeout t) {
  count = 0;
  if (!backend_) return make_error_code(error::port_closed);
  if (out.empty()) return make_error_code(error::invalid_argument);
  if (t.count() < 0) t = timeout::zero();
  auto ec = backend_->wait(out, count, t);
  // The operations are the caller's again.
  for (std::size_t i = 0; i < count; ++i) {
    operation* op = out[i].op;
    if (op == nullptr) continue;
    if (!out[i].error && op_access::associates_accepted(*op))
      out[i].error = detail::associate_accepted(*backend_, *op);
    op_access::end(*op);
  }
  return ec;
}

std::error_code port::close() {
  if (!backend_) return make_error_code(error::port_closed);
  backend_->close();
  return {};
}

backend_kind port::backend() const noexcept {
  return backend_ ? backend_->kind() : backend_kind::automatic;
}

unsigned port::concurrency() const noexcept {
  return backend_ ? backend_->concurrency() : 0;
}

blocking_scope::blocking_scope() noexcept {
  detail::thread_blocks();
}

blocking_scope::~blocking_scope() {
  detail::thread_unblocks();
}

}  // namespace proact
