// The native Windows backend: a proact port is an I/O completion port.
//
// Operations run on Winsock's overlapped calls (AcceptEx, ConnectEx, WSARecv,
// WSASend, WSARecvFrom, WSASendTo, TransmitFile) and on overlapped
// ReadFile/WriteFile for files and pipes; the OVERLAPPED lives first in the
// operation's backend storage, so a dequeued packet leads straight back to
// its operation. The kernel provides
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
#include "common/connection_state.hpp"
#include "iocp_file_worker.hpp"
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
struct iocp_op;

// Per-handle state (socket, file or pipe). Lives until the public handle is
// gone and every packet of its operations has been dequeued (the packets
// still need it).
class iocp_handle final : public io_handle {
 public:
  using io_handle::io_handle;
  ~iocp_handle() = default;

  SOCKET socket() const noexcept { return static_cast<SOCKET>(fd); }
  HANDLE native() const noexcept { return reinterpret_cast<HANDLE>(fd); }
  bool is_socket() const noexcept {
    return kind == handle_kind::tcp_stream || kind == handle_kind::tcp_listener ||
           kind == handle_kind::udp;
  }

  entry_gate gate;              // shut by close_handle: is_shut() means "closed by us"
  std::atomic<long> refs{1};    // the public handle, plus one per packet to come
  iocp_handle* prev = nullptr;  // registry of associated handles (iocp_backend's lock)
  iocp_handle* next = nullptr;

  // Held around every start call on the handle (so concurrent starts take
  // effect in one order), and by disconnect's socket swap, which changes
  // `fd` under it. Guards what follows.
  std::mutex lock;
  bool skip_on_success = false;
  // Operations with a packet to come, in start order: cancel-all, close and
  // port close cancel them one by one in this order (CancelIoEx(h, NULL)
  // does not promise one; Wine cancels the newest first).
  iocp_op* first = nullptr;
  iocp_op* last = nullptr;
  connection_state connection;  // streams: how later operations end
  // TCP streams only: what a disconnect must know.
  std::size_t sends = 0;  // pending sends and send_files (go before its end)
  // Streams: the pooled recv whose zero-length read is in the kernel, if
  // any. The recvs started after it are held (iocp_op::held, `held` of
  // them) until it has taken its bytes, so that none takes them first; a
  // pooled recv is held until the recvs ahead of it are done.
  operation* pooled_waiting = nullptr;
  std::size_t held = 0;
  operation* disconnecting = nullptr;  // the disconnect in progress
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
  std::error_code shutdown_send(io_handle& h) override;
  std::error_code skip_completion_on_success(io_handle& h) override;
  std::error_code cancel(io_handle& h, operation* op) override;
  std::error_code close_handle(io_handle& h) override;
  bool handle_open(const io_handle& h) const noexcept override;
  void release_handle(io_handle& h) noexcept override;

  std::error_code post(std::uintptr_t key, std::size_t bytes, operation* op) override;
  std::error_code wait(std::span<completion> out, std::size_t& count, timeout t) override;
  void close() noexcept override;

 private:
  ~iocp_backend() override;

  // Makes one start call (on the start thread under Wine); see iocp_io.hpp.
  std::error_code issue(iocp_handle& h, operation& op, iocp_op& s, const endpoint* remote,
                        DWORD& bytes) noexcept;
  std::error_code run_start(start_thread::task fn, void* context) noexcept;
  // What a start call's answer means for the operation (under h.lock): a
  // packet to wait for, a result posted or returned at once, or a refusal.
  std::error_code settle(iocp_handle& h, operation& op, iocp_op& s, std::error_code ec,
                         DWORD bytes) noexcept;
  std::error_code start_empty_pipe_send(iocp_handle& h, operation& op, iocp_op& s) noexcept;
  // The result (native `code`) is known in the start call and nothing is
  // pending in the kernel: posted, or returned in skip mode.
  std::error_code deliver_now(iocp_handle& h, operation& op, iocp_op& s, int code,
                              std::size_t bytes) noexcept;
  // Skip mode: the result goes back to the caller of the start call.
  void finish_at_start(iocp_handle& h, operation& op, iocp_op& s, int code,
                       std::size_t bytes) noexcept;
  // False when the packet ends nothing the caller sees yet (a disconnect
  // that goes on); `out` is then unused.
  bool translate(const OVERLAPPED_ENTRY& entry, completion& out) noexcept;
  // The operation's promised packet will not come: undo the start's counts.
  void unpromise(iocp_handle& h) noexcept;
  // `n` promised packets were dequeued (or will never come).
  void retire(std::int64_t n) noexcept;
  void post_sentinel() noexcept;
  void drop_ref(iocp_handle& h) noexcept;
  // Posts the packet that delivers `s`'s result (`code`, `bytes`) itself.
  bool post_result(iocp_handle& h, iocp_op& s, int code, std::size_t bytes) noexcept;
  // The list of operations with a packet to come, under h.lock (and the
  // pending sends a disconnect waits for).
  void track(iocp_handle& h, operation& op, iocp_op& s) noexcept;
  void untrack(iocp_handle& h, operation& op, iocp_op& s) noexcept;
  // CancelIoEx for each of them (a queued flush: withdrawn and posted
  // aborted), in start order; false if none was pending.
  bool cancel_each(iocp_handle& h) noexcept;

  // Flushes run on file_worker_ (iocp_file_worker.cpp), under h.lock.
  std::error_code start_flush(iocp_handle& h, operation& op, iocp_op& s) noexcept;
  // Cancels `s` if it is a flush still queued (true); else false.
  bool withdraw_job(iocp_handle& h, iocp_op& s) noexcept;
  // Pooled recvs (iocp_pooled.cpp), under h.lock. A recv started while a
  // pooled recv waits is held (true); else false.
  bool hold_behind_pooled(iocp_handle& h, operation& op, iocp_op& s) noexcept;
  // Cancels `s` if it is held (posted aborted: true); else false.
  bool withdraw_held(iocp_handle& h, iocp_op& s) noexcept;
  // A started recv went to the kernel: a pooled one holds those after it.
  void note_issued_recv(iocp_handle& h, operation& op, std::error_code started) noexcept;
  // The packet of `op` (of a stream) was handled: the recvs held go to the
  // kernel in start order, as far as they may (see iocp_pooled.cpp).
  void recv_done(iocp_handle& h, operation& op) noexcept;
  // The worker's end of a flush: its packet, with the native `code`.
  friend class iocp_file_worker;
  void post_job_result(iocp_handle& h, iocp_op& s, int code) noexcept;

  // Disconnect and the socket swap (iocp_disconnect.cpp), all under h.lock.
  std::error_code start_disconnect(iocp_handle& h, operation& op, iocp_op& s) noexcept;
  // Issues drain recvs until one is pending (true) or the drain ended with `code`.
  bool drain(iocp_handle& h, iocp_op& s, int& code) noexcept;
  // A packet of a disconnect: false while it goes on, else its `result`.
  bool disconnect_packet(iocp_handle& h, operation& op, iocp_op& s, int code, std::size_t bytes,
                         std::error_code& result) noexcept;
  // The drain ended with `code`: true if the disconnect is over (with the
  // final `code`), false if it waits for the pending sends.
  bool end_disconnect(iocp_handle& h, operation& op, iocp_op& s, int& code) noexcept;
  // The socket swap, unless the port or the handle was closed meanwhile.
  int finish_disconnect(iocp_handle& h, operation& op, int code) noexcept;
  // The last pending send of h completed; a disconnect may wait for it.
  void sends_done(iocp_handle& h) noexcept;
  // A fresh socket in place of h's, associated with the same port and key,
  // in skip mode if h is, with TCP_NODELAY if h's had it; the public
  // tcp_socket (op's target) shows it. Under h.lock, inside h's gate.
  std::error_code replace_socket(iocp_handle& h, operation& op) noexcept;
  // ConnectEx's implicit bind, never to the port it connects to.
  std::error_code bind_for_connect(iocp_handle& h, operation& op, const endpoint& remote) noexcept;

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
  // Last: its threads stop (and are joined) before the rest goes.
  iocp_file_worker file_worker_{*this, 2};
};

std::error_code create_iocp_backend(const port_options& options, port_backend*& out);

}  // namespace proact::detail
