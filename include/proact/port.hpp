// port: the completion port.
//
//   proact::port p;
//   if (auto ec = p.open({})) ...;          // backend from options or PROACT_BACKEND
//   p.associate(socket, key);
//   socket.recv(op, buf);                   // completes through p
//   proact::completion c;
//   p.wait(c, proact::infinite);            // c.key, c.op, c.bytes, c.error
//
// The full contract is in docs/semantics.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "proact/export.hpp"
#include "proact/operation.hpp"

namespace proact {

class handle;

namespace detail {
class port_backend;
}

enum class backend_kind : std::uint8_t {
  automatic,  // PROACT_BACKEND if set, else the platform default
  epoll,      // Linux: completions emulated over epoll readiness
  io_uring,   // Linux: native completions
  iocp,       // Windows: native I/O completion ports
};

PROACT_API std::string_view to_string(backend_kind kind) noexcept;
// "epoll", "io_uring", "iocp", "automatic"/"auto"/""; invalid_argument otherwise.
PROACT_API backend_kind backend_from_string(std::string_view name, std::error_code& ec) noexcept;

struct port_options {
  backend_kind backend = backend_kind::automatic;
  // Most threads allowed to run completions at once; 0 = number of processors.
  unsigned concurrency = 0;
};

using timeout = std::chrono::milliseconds;
inline constexpr timeout infinite = timeout::max();

class PROACT_API port {
 public:
  port() noexcept = default;
  // Convenience: opens or throws std::system_error.
  explicit port(const port_options& options);
  port(port&& other) noexcept;
  port& operator=(port&& other) noexcept;
  port(const port&) = delete;
  port& operator=(const port&) = delete;
  // Closes the port (see close()) and releases it once no handle uses it.
  ~port();

  [[nodiscard]] std::error_code open(const port_options& options = {});
  bool is_open() const noexcept { return backend_ != nullptr; }

  // Ties an open handle to this port; its operations complete here with `key`.
  [[nodiscard]] std::error_code associate(handle& h, std::uintptr_t key);

  // Queues a user packet, delivered verbatim. A non-null op is in flight until
  // dequeued.
  [[nodiscard]] std::error_code post(std::uintptr_t key, std::size_t bytes, operation* op);

  // Dequeues one completion. Returns errc::timed_out if none arrived in time
  // (0 = poll), errc::port_closed once the port is closed and drained.
  [[nodiscard]] std::error_code wait(completion& out, timeout t = infinite);
  // Dequeues 1..out.size() completions in queue order.
  [[nodiscard]] std::error_code wait_many(std::span<completion> out, std::size_t& count,
                                          timeout t = infinite);

  // Wakes every waiter, cancels pending operations of associated handles,
  // refuses new work with errc::port_closed; queued completions stay
  // dequeuable. Idempotent.
  [[nodiscard]] std::error_code close();

  backend_kind backend() const noexcept;
  unsigned concurrency() const noexcept;

 private:
  friend class buffer_pool;
  detail::port_backend* backend_ = nullptr;
};

// While one exists, the calling thread counts as blocked, not active, on the
// port it last took a completion from (docs/semantics.md, item 12): another
// thread waiting there may be released in its place, and operations it
// started are on their way even if their submission was left for its next
// wait. The Windows kernel sees a thread block (a sleep, a lock, a wait for
// another thread) by itself; the emulating backends see it only through
// this. Once the scope ends the thread counts as active again until it
// waits, as a thread that wakes does on Windows. Scopes may nest.
//
//   proact::completion c;
//   (void)p.wait(c);
//   { proact::blocking_scope blocked; reply_ready.wait(); }  // others run meanwhile
class PROACT_API blocking_scope {
 public:
  blocking_scope() noexcept;
  ~blocking_scope();
  blocking_scope(const blocking_scope&) = delete;
  blocking_scope& operator=(const blocking_scope&) = delete;
};

}  // namespace proact
