// The contract between the backend-neutral layer (src/common) and a backend
// (src/linux/epoll_*, src/linux/uring_*, src/win/iocp_*).
//
// The neutral layer validates arguments, owns the operation's in-flight flag
// and fills the request (kind, buffers, target) into the operation; the
// backend starts, cancels and completes it. A start that returns an error must
// leave no trace: no completion will ever be produced for it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "proact/endpoint.hpp"
#include "proact/port.hpp"

namespace proact::detail {

enum class handle_kind : std::uint8_t { none, tcp_stream, tcp_listener, udp, file, local_stream };

class port_backend;
class pool_state;

// Per-handle state of an associated handle. Backends derive from it.
class io_handle {
 public:
  io_handle(port_backend& b, native_handle_type f, handle_kind k, std::uintptr_t key_value,
            address_family fam) noexcept
      : backend(b), fd(f), kind(k), family(fam), key(key_value) {}
  io_handle(const io_handle&) = delete;
  io_handle& operator=(const io_handle&) = delete;

  port_backend& backend;
  native_handle_type fd;
  handle_kind kind;
  address_family family;
  std::uintptr_t key;

 protected:
  ~io_handle() = default;  // destroyed through port_backend::release_handle
};

class port_backend {  // NOLINT(cppcoreguidelines-virtual-class-destructor)
 public:
  port_backend(const port_backend&) = delete;
  port_backend& operator=(const port_backend&) = delete;

  virtual backend_kind kind() const noexcept = 0;
  virtual unsigned concurrency() const noexcept = 0;

  // Associates an open native handle; on success `out` is the new state.
  virtual std::error_code associate(native_handle_type fd, handle_kind kind, address_family family,
                                    std::uintptr_t key, io_handle*& out) = 0;
  // Starts the request recorded in `op` (kind, buffers, target, key). With
  // skip_completion_on_success() set on h, an operation that completes
  // during the call is finished with op_access::complete_at_start() and
  // op_access::end() and queues nothing.
  virtual std::error_code start(io_handle& h, operation& op, const endpoint* remote) = 0;
  // tcp_socket::shutdown_send(): the FIN goes after the sends already started.
  virtual std::error_code shutdown_send(io_handle& h) = 0;
  // handle::skip_completion_on_success(): one-way.
  virtual std::error_code skip_completion_on_success(io_handle& h) = 0;
  // Cancels `op` if pending on h, or every pending operation of h if op is null.
  virtual std::error_code cancel(io_handle& h, operation* op) = 0;
  // Aborts pending operations and closes the native handle. Idempotent.
  virtual std::error_code close_handle(io_handle& h) = 0;
  // True until close_handle ran.
  virtual bool handle_open(const io_handle& h) const noexcept = 0;
  // The public handle object is gone: free h once nothing can refer to it.
  // The handle is closed first if it is still open.
  virtual void release_handle(io_handle& h) noexcept = 0;

  // A buffer_pool was opened on this port: a backend that keeps the free
  // buffers itself (a kernel ring) takes them here (pool_state::kept_by);
  // the others leave them to the pool. forget_pool: the pool closes, no
  // pooled recv uses it any more.
  virtual std::error_code adopt_pool(pool_state& /*pool*/) { return {}; }
  virtual void forget_pool(pool_state& /*pool*/) noexcept {}

  virtual std::error_code post(std::uintptr_t key, std::size_t bytes, operation* op) = 0;
  virtual std::error_code wait(std::span<completion> out, std::size_t& count, timeout t) = 0;
  virtual void close() noexcept = 0;

  // Reference count: one for the port object, one for each io_handle, plus
  // whatever the backend takes for itself (e.g. threads associated with it).
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  port_backend() noexcept = default;
  // Protected and virtual: only release() destroys a backend.
  virtual ~port_backend() = default;

 private:
  std::atomic<long> refs_{1};
};

// Creates the backend that the options (and PROACT_BACKEND) ask for. Each
// platform implements it (src/linux/backend_factory.cpp, src/win/...).
std::error_code create_backend(const port_options& options, port_backend*& out);

// Number of processors, for concurrency = 0.
unsigned processor_count() noexcept;

// The calling thread starts or ends blocking outside any port
// (proact::blocking_scope; nested scopes count as one). Each platform
// implements them: the emulating engine stops counting the thread as active
// on its port meanwhile; the Windows kernel sees the block by itself.
void thread_blocks() noexcept;
void thread_unblocks() noexcept;

}  // namespace proact::detail
