// The native Windows backend: a proact port is an I/O completion port.
//
// Operations run on Winsock's overlapped calls (AcceptEx, ConnectEx, WSARecv,
// WSASend); the OVERLAPPED lives first in the operation's backend storage, so
// a dequeued packet leads straight back to its operation. The kernel provides
// FIFO packets, LIFO thread release and the concurrency limit. proact adds
// what IOCP does not define the same way on every Windows (and on Wine):
// the close protocol of the port (item 11), the codes of operations aborted by
// closing their own handle (item 8), and end-of-stream as an error (item 5).
#pragma once

#include <windows.h>
#include <winsock2.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <system_error>

#include "common/backend.hpp"
#include "proact/error.hpp"
#include "wine_support.hpp"

namespace proact::detail {

// Many threads may pass an entry_gate until it is shut; shut() then waits
// for those inside to leave. It keeps what it guards (a socket handle, the
// port's open state) valid and unchanged for the threads inside.
class entry_gate {
 public:
  bool enter() noexcept;
  void leave() noexcept;
  // True for the one call that shut the gate; later calls return false at once.
  bool shut() noexcept;
  bool is_shut() const noexcept;

 private:
  static constexpr std::uint32_t shut_bit = 0x80000000u;
  std::atomic<std::uint32_t> state_{0};  // shut_bit | number of threads inside
};

class iocp_backend;

// Per-socket state. Lives until the public handle is gone and every packet of
// its operations has been dequeued (the packets still need it).
class iocp_handle final : public io_handle {
 public:
  using io_handle::io_handle;
  ~iocp_handle() = default;

  SOCKET socket() const noexcept { return static_cast<SOCKET>(fd); }

  entry_gate gate;              // shut by close_handle: is_shut() means "closed by us"
  std::atomic<long> refs{1};    // the public handle, plus one per packet to come
  iocp_handle* prev = nullptr;  // registry of associated handles (iocp_backend's lock)
  iocp_handle* next = nullptr;
};

class iocp_backend final : public port_backend {
 public:
  // `starter` is null except under Wine (see wine_support.hpp).
  iocp_backend(HANDLE port, unsigned concurrency, std::unique_ptr<start_thread> starter) noexcept;

  backend_kind kind() const noexcept override { return backend_kind::iocp; }
  unsigned concurrency() const noexcept override { return concurrency_; }

  std::error_code associate(native_handle_type fd, handle_kind kind, address_family family,
                            std::uintptr_t key, io_handle*& out) override;
  std::error_code start(io_handle& h, operation& op, const endpoint* remote) override;
  std::error_code cancel(io_handle& h, operation* op) override;
  std::error_code close_handle(io_handle& h) override;
  bool handle_open(const io_handle& h) const noexcept override;
  void release_handle(io_handle& h) noexcept override;
  // Issue 5 operations arrive here next; until then they are refused.
  std::error_code shutdown_send(io_handle&) override {
    return make_error_code(error::invalid_argument);
  }
  std::error_code skip_completion_on_success(io_handle&) override {
    return make_error_code(error::invalid_argument);
  }

  std::error_code post(std::uintptr_t key, std::size_t bytes, operation* op) override;
  std::error_code wait(std::span<completion> out, std::size_t& count, timeout t) override;
  void close() noexcept override;

 private:
  ~iocp_backend() override;

  void translate(const OVERLAPPED_ENTRY& entry, completion& out) noexcept;
  // `n` promised packets were dequeued (or will never come).
  void retire(std::int64_t n) noexcept;
  void post_sentinel() noexcept;
  void drop_ref(iocp_handle& h) noexcept;

  HANDLE port_;
  unsigned concurrency_;
  std::unique_ptr<start_thread> starter_;  // makes the start calls under Wine
  entry_gate open_;                        // shut by close(): starts and posts are refused after
  // Packets promised and not yet dequeued: operations whose start succeeded
  // (counted just before the start call) and user posts. The sentinel is not
  // counted. Once the port is closed and this reaches 0, nothing can come.
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<bool> sentinel_posted_{false};
  std::atomic<bool> drained_{false};
  // The wake-up packet of a closed, drained port. Only its address is used:
  // no operation owns it, so a packet carrying it is never handed out.
  OVERLAPPED sentinel_{};

  std::mutex registry_lock_;
  iocp_handle* handles_ = nullptr;  // every associated handle not yet destroyed
};

std::error_code create_iocp_backend(const port_options& options, port_backend*& out);

}  // namespace proact::detail
