#include "iocp_backend.hpp"

#include <winternl.h>  // RtlNtStatusToDosError

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <thread>

#include "common/op_access.hpp"
#include "common/pool_state.hpp"
#include "iocp_io.hpp"
#include "proact/error.hpp"
#include "winsock.hpp"

namespace proact::detail {

namespace {

// Most packets one wait takes from the kernel (an OVERLAPPED_ENTRY is 32 bytes).
constexpr ULONG wait_batch = 64;

std::error_code not_found() noexcept {
  return make_error_code(error::not_found);
}

bool is_stream(const iocp_handle& h) noexcept {
  return h.kind == handle_kind::tcp_stream || h.kind == handle_kind::local_stream;
}

// What the connection's state decides about a start call of `kind` (the
// kernel keeps no per-handle queue here: every operation's turn is now).
std::error_code refusal(const iocp_handle& h, op_kind kind) noexcept {
  if (!is_stream(h)) return {};
  if (std::error_code ec = h.connection.refusal_at_start(kind)) return ec;
  return h.connection.failure_for(kind);
}

// The native code for what the connection's state decides about an
// operation: its failure, or what Winsock itself answers.
int native_code_of(const std::error_code& refused) noexcept {
  if (refused.category() == native_category()) return refused.value();
  return refused == errc::shut_down ? WSAESHUTDOWN : WSAENOTCONN;
}

// A user post without an operation has no OVERLAPPED of its own. Its pointer
// slot carries the upper 32 bits of `bytes` instead, tagged odd: no real
// OVERLAPPED (8-byte aligned) has an odd address.
OVERLAPPED* encode_bare_post(std::uint64_t bytes) noexcept {
  const std::uint64_t high = bytes >> 32;
  if (high == 0) return nullptr;
  return reinterpret_cast<OVERLAPPED*>(static_cast<std::uintptr_t>((high << 1) | 1));
}
bool is_bare_post(const OVERLAPPED* ov) noexcept {
  return ov == nullptr || (reinterpret_cast<std::uintptr_t>(ov) & 1) != 0;
}
std::uint64_t bare_post_high_bytes(const OVERLAPPED* ov) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ov) >> 1) << 32;
}

// One start call: issue_io, made by the calling thread or (under Wine) the
// start thread.
struct start_request {
  iocp_handle* h;
  operation* op;
  iocp_op* s;
  const endpoint* remote;
  DWORD bytes;
};

std::error_code run_request(void* context) noexcept {
  auto& r = *static_cast<start_request*>(context);
  return issue_io(*r.h, *r.op, *r.s, r.remote, r.bytes);
}

bool is_tcp_send(const iocp_handle& h, op_kind kind) noexcept {
  return h.kind == handle_kind::tcp_stream && (kind == op_kind::send || kind == op_kind::send_file);
}

std::size_t requested_bytes(const operation& op) noexcept {
  const buffer* buffers = op_access::buffers(op);
  std::size_t total = 0;
  for (std::size_t i = 0; i < op_access::buffer_count(op); ++i) total += buffers[i].size;
  return total;
}

bool is_read(op_kind kind) noexcept {
  return kind == op_kind::recv || kind == op_kind::recv_from || kind == op_kind::accept;
}

// A pooled recv with no read pending ahead of it (its turn is now) and its
// pool empty.
bool pool_empty_at_start(const iocp_handle& h, const operation& op) noexcept {
  const pool_state* pool = pool_of(op);
  if (pool == nullptr || pool->available() != 0) return false;
  for (iocp_op* s = h.first; s != nullptr; s = s->next)
    if (is_read(op_access::kind(*op_access::from_backend(s)))) return false;
  return true;
}

DWORD to_milliseconds(timeout t) noexcept {
  if (t == infinite || t.count() >= static_cast<timeout::rep>(INFINITE)) return INFINITE;
  return static_cast<DWORD>(t.count());
}

}  // namespace

// ---- entry_gate ------------------------------------------------------------

bool entry_gate::enter() noexcept {
  if ((state_.fetch_add(1, std::memory_order_acquire) & shut_bit) == 0) return true;
  leave();
  return false;
}

void entry_gate::leave() noexcept {
  state_.fetch_sub(1, std::memory_order_release);
}

bool entry_gate::shut() noexcept {
  const std::uint32_t before = state_.fetch_or(shut_bit, std::memory_order_acq_rel);
  if ((before & shut_bit) != 0) return false;
  // Those inside leave after a non-blocking call or two.
  while ((state_.load(std::memory_order_acquire) & ~shut_bit) != 0) std::this_thread::yield();
  return true;
}

bool entry_gate::is_shut() const noexcept {
  return (state_.load(std::memory_order_acquire) & shut_bit) != 0;
}

// ---- iocp_backend ------------------------------------------------------------

std::error_code create_iocp_backend(const port_options& options, port_backend*& out) {
  out = nullptr;
  if (auto ec = winsock::startup()) return ec;
  const unsigned concurrency = options.concurrency != 0 ? options.concurrency : processor_count();
  // The kernel enforces the concurrency value (item 12).
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, concurrency);
  if (port == nullptr) return native_error(static_cast<int>(GetLastError()));
  std::unique_ptr<start_thread> starter;
  if (running_under_wine()) {
    try {
      starter = std::make_unique<start_thread>();
    } catch (const std::exception&) {
      CloseHandle(port);
      return native_error(ERROR_NOT_ENOUGH_MEMORY);
    }
  }
  out = new (std::nothrow) iocp_backend(port, concurrency, std::move(starter));
  if (out == nullptr) {
    CloseHandle(port);
    return native_error(ERROR_NOT_ENOUGH_MEMORY);
  }
  return {};
}

iocp_backend::iocp_backend(HANDLE port, unsigned concurrency,
                           std::unique_ptr<start_thread> starter) noexcept
    : port_(port), concurrency_(concurrency), starter_(std::move(starter)) {}

// Only here, once nothing can be inside GetQueuedCompletionStatusEx: Windows
// would fail such waiters with ERROR_ABANDONED_WAIT_0, Wine would leave them
// blocked.
iocp_backend::~iocp_backend() {
  CloseHandle(port_);
}

std::error_code iocp_backend::associate(native_handle_type fd, handle_kind kind,
                                        address_family family, std::uintptr_t key,
                                        io_handle*& out) {
  out = nullptr;
  if (!open_.enter()) return make_error_code(error::port_closed);
  std::error_code ec;
  auto* h = new (std::nothrow) iocp_handle(*this, fd, kind, key, family);
  if (h == nullptr) {
    ec = native_error(ERROR_NOT_ENOUGH_MEMORY);
  } else if (CreateIoCompletionPort(h->native(), port_, reinterpret_cast<ULONG_PTR>(h), 0) ==
             nullptr) {
    const DWORD code = GetLastError();
    // A handle associates with one port once; a second association (another
    // thread won the race for this handle) fails with ERROR_INVALID_PARAMETER.
    ec = code == ERROR_INVALID_PARAMETER ? make_error_code(error::already_associated)
                                         : native_error(static_cast<int>(code));
    delete h;
  } else {
    add_ref();  // the handle keeps the port alive
    std::lock_guard<std::mutex> guard(registry_lock_);
    h->next = handles_;
    if (handles_ != nullptr) handles_->prev = h;
    handles_ = h;
    out = h;
  }
  open_.leave();  // close() cancels handles after this, so it sees this one
  return ec;
}

std::error_code iocp_backend::start(io_handle& base, operation& op, const endpoint* remote) {
  auto& h = static_cast<iocp_handle&>(base);
  if (!h.gate.enter()) return make_error_code(error::bad_handle);
  if (!open_.enter()) {
    h.gate.leave();
    return make_error_code(error::port_closed);
  }
  iocp_op& s = op_access::construct_backend<iocp_op>(op);
  s.handle = &h;
  // Counted before the call: its packet may be dequeued before the call returns.
  h.refs.fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_add(1, std::memory_order_seq_cst);

  std::error_code ec;
  {
    std::lock_guard<std::mutex> guard(h.lock);
    const op_kind kind = op_access::kind(op);
    if (kind == op_kind::disconnect) {
      ec = start_disconnect(h, op, s);
    } else if (h.disconnecting != nullptr && is_read(kind)) {
      ec = make_error_code(error::not_connected);  // a disconnect is draining
      unpromise(h);
    } else if (const std::error_code refused = refusal(h, kind)) {
      // The connection failed, is still connecting, or its send side is shut
      // down: the outcome is known without asking Winsock.
      ec = deliver_now(h, op, s, native_code_of(refused), 0);
    } else if (kind == op_kind::accept && h.skip_on_success && h.first == nullptr &&
               accept_at_once(h, op)) {
      // Skip mode, nothing queued ahead, a connection waiting: done at start.
      unpromise(h);
      op_access::complete_at_start(op, 0, {});
      op_access::end(op);
    } else if (pool_empty_at_start(h, op)) {
      // As io_uring's kernel ends a recv whose turn comes with its
      // provided-buffer ring empty.
      ec = deliver_now(h, op, s, pool_empty_code, 0);
    } else if (kind == op_kind::flush) {
      ec = start_flush(h, op, s);
    } else if (kind == op_kind::send && h.kind == handle_kind::local_stream &&
               requested_bytes(op) == 0) {
      ec = start_empty_pipe_send(h, op, s);
    } else {
      if (hold_behind_pooled(h, op, s)) {
        // Issued when the pooled recv ahead of it has taken its bytes.
      } else {
        track(h, op, s);  // before the call: its packet may be dequeued at once
        DWORD bytes = 0;
        if (kind == op_kind::connect && remote != nullptr) ec = bind_for_connect(h, op, *remote);
        if (!ec) ec = issue(h, op, s, remote, bytes);
        // Wine connects through Linux, which answers the connect() after an
        // asynchronously refused one with ECONNABORTED, once; Windows reuses
        // the socket.
        if (kind == op_kind::connect && ec == native_error(WSAECONNABORTED) && running_under_wine())
          ec = issue(h, op, s, remote, bytes);
        ec = settle(h, op, s, ec, bytes);
        note_issued_recv(h, op, ec);
      }
    }
  }
  open_.leave();
  h.gate.leave();
  return ec;
}

std::error_code iocp_backend::issue(iocp_handle& h, operation& op, iocp_op& s,
                                    const endpoint* remote, DWORD& bytes) noexcept {
  // From here on a call that queues a packet hands `op` to whichever thread
  // dequeues it; the caller touches op and s afterwards only under h.lock,
  // which that thread takes before it looks at a tracked operation.
  start_request request{&h, &op, &s, remote, 0};
  std::error_code ec = run_start(&run_request, &request);
  bytes = request.bytes;
  return ec;
}

std::error_code iocp_backend::run_start(start_thread::task fn, void* context) noexcept {
  return starter_ ? starter_->run(fn, context) : fn(context);
}

std::error_code iocp_backend::settle(iocp_handle& h, operation& op, iocp_op& s, std::error_code ec,
                                     DWORD bytes) noexcept {
  const op_kind kind = op_access::kind(op);
  if (ec.category() != native_category()) {  // refused before any call
    untrack(h, op, s);
    unpromise(h);
    return ec;
  }
  const int code = ec.value();
  // A call that failed with an NT warning status (STATUS_BUFFER_OVERFLOW: a
  // truncated datagram received; on Wine also one too large to send) still
  // completed its request, and the I/O manager queues the packet as for a
  // success. The status block in the OVERLAPPED says which: read under
  // h.lock, no packet of this operation can be handled meanwhile.
  const bool warning = code != 0 && code != ERROR_IO_PENDING && completed_with_warning(s);
  if (warning) bytes = status_bytes(s);
  // Pending, or done at once: the kernel queues a packet unless the handle
  // skips completions on success (warnings included, as for success).
  if (code == ERROR_IO_PENDING || (!h.skip_on_success && (code == 0 || warning))) {
    if (kind == op_kind::connect) h.connection.connect_started();
    return {};
  }
  untrack(h, op, s);  // no packet will come
  if (code != 0 && !warning && refused_at_start(kind, code)) {
    release_io(s);
    if (kind == op_kind::accept && s.accepted != INVALID_SOCKET) closesocket(s.accepted);
    unpromise(h);
    return ec;
  }
  // The I/O is over: an immediate result with no packet (skip mode), or an
  // I/O error, which a start call reports at once and queues nothing for.
  return deliver_now(h, op, s, code, bytes);
}

std::error_code iocp_backend::deliver_now(iocp_handle& h, operation& op, iocp_op& s, int code,
                                          std::size_t bytes) noexcept {
  // A pooled recv's buffer is taken when its packet is handled: it never
  // completes at start.
  if (h.skip_on_success && pool_of(op) == nullptr) {
    finish_at_start(h, op, s, code, bytes);
    return {};
  }
  if (!post_result(h, s, code, 0)) {
    const std::error_code failed = native_error(static_cast<int>(GetLastError()));
    std::size_t none = 0;
    (void)io_outcome(h, op, s, code, none);  // releases what the operation holds
    unpromise(h);
    return failed;
  }
  return {};
}

// A zero-length WriteFile on a pipe completes at once, ahead of the writes
// still pending (Wine): instead, a zero-length send completes right after
// the send before it, or at once if none is pending.
std::error_code iocp_backend::start_empty_pipe_send(iocp_handle& h, operation& op,
                                                    iocp_op& s) noexcept {
  iocp_op* before = h.last;
  while (before != nullptr && op_access::kind(*op_access::from_backend(before)) != op_kind::send)
    before = before->prev;
  track(h, op, s);
  if (before != nullptr) {
    before->then = &s;  // posted when `before` is dequeued
    return {};
  }
  untrack(h, op, s);
  if (h.skip_on_success) {
    finish_at_start(h, op, s, 0, 0);
    return {};
  }
  if (!post_result(h, s, 0, 0)) {
    unpromise(h);
    return native_error(static_cast<int>(GetLastError()));
  }
  return {};
}

void iocp_backend::finish_at_start(iocp_handle& h, operation& op, iocp_op& s, int code,
                                   std::size_t bytes) noexcept {
  std::error_code result = io_outcome(h, op, s, code, bytes);
  if (is_stream(h)) h.connection.observe(op_access::kind(op), result, bytes);
  unpromise(h);
  op_access::complete_at_start(op, bytes, result);
  op_access::end(op);  // the caller's again: nothing may touch op or s after this
}

bool iocp_backend::post_result(iocp_handle& h, iocp_op& s, int code, std::size_t bytes) noexcept {
  s.posted = true;
  s.posted_code = code;
  s.post_bytes = bytes;
  return PostQueuedCompletionStatus(port_, static_cast<DWORD>(bytes),
                                    reinterpret_cast<ULONG_PTR>(&h), &s.overlapped) != FALSE;
}

void iocp_backend::unpromise(iocp_handle& h) noexcept {
  h.refs.fetch_sub(1, std::memory_order_relaxed);  // the public handle still holds one
  retire(1);
}

void iocp_backend::track(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  s.next = nullptr;
  s.prev = h.last;
  if (h.last != nullptr)
    h.last->next = &s;
  else
    h.first = &s;
  h.last = &s;
  if (is_tcp_send(h, op_access::kind(op))) ++h.sends;
  s.tracked = true;
}

void iocp_backend::untrack(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  if (!s.tracked) return;
  s.tracked = false;
  if (s.prev != nullptr)
    s.prev->next = s.next;
  else
    h.first = s.next;
  if (s.next != nullptr)
    s.next->prev = s.prev;
  else
    h.last = s.prev;
  if (is_tcp_send(h, op_access::kind(op)) && --h.sends == 0 && h.disconnecting != nullptr)
    sends_done(h);  // a disconnect may be waiting for them
}

bool iocp_backend::cancel_each(iocp_handle& h) noexcept {
  bool any = false;
  for (iocp_op* s = h.first; s != nullptr; s = s->next)
    if (withdraw_job(h, *s) || withdraw_held(h, *s) || CancelIoEx(h.native(), &s->overlapped))
      any = true;
  return any;
}

std::error_code iocp_backend::shutdown_send(io_handle& base) {
  auto& h = static_cast<iocp_handle&>(base);
  if (!h.gate.enter()) return make_error_code(error::bad_handle);
  std::error_code ec;
  if (h.kind != handle_kind::tcp_stream) {
    ec = make_error_code(error::invalid_argument);
  } else {
    // Winsock sends the FIN once the data of the sends already started has
    // gone ("a FIN will be sent after all data is sent and acknowledged").
    std::lock_guard<std::mutex> guard(h.lock);
    if (::shutdown(h.socket(), SD_SEND) != 0)
      ec = winsock::last_error();
    else
      h.connection.send_side_shut();
  }
  h.gate.leave();
  return ec;
}

std::error_code iocp_backend::skip_completion_on_success(io_handle& base) {
  auto& h = static_cast<iocp_handle&>(base);
  if (!h.gate.enter()) return make_error_code(error::bad_handle);
  std::error_code ec;
  {
    std::lock_guard<std::mutex> guard(h.lock);
    if (!h.skip_on_success) {
      // "When the FileHandle parameter is a socket, this mode is only
      // compatible with Layered Service Providers (LSP) that return
      // Installable File Systems (IFS) handles" (SetFileCompletionNotificationModes):
      // a socket of another provider keeps every completion on the port.
      WSAPROTOCOL_INFOW info{};
      int length = static_cast<int>(sizeof(info));
      if (h.is_socket() && (getsockopt(h.socket(), SOL_SOCKET, SO_PROTOCOL_INFOW,
                                       reinterpret_cast<char*>(&info), &length) != 0 ||
                            (info.dwServiceFlags1 & XP1_IFS_HANDLES) == 0))
        ec = native_error(WSAEOPNOTSUPP);
      else if (SetFileCompletionNotificationModes(h.native(), FILE_SKIP_COMPLETION_PORT_ON_SUCCESS))
        h.skip_on_success = true;
      else
        ec = native_error(static_cast<int>(GetLastError()));
    }
  }
  h.gate.leave();
  return ec;
}

std::error_code iocp_backend::cancel(io_handle& base, operation* op) {
  auto& h = static_cast<iocp_handle&>(base);
  OVERLAPPED* target = nullptr;
  if (op != nullptr) {
    // Only an I/O operation in flight on this handle can be pending here.
    const op_kind kind = op_access::kind(*op);
    if (!op->in_flight() || kind == op_kind::post || kind == op_kind::none ||
        op_access::backend<iocp_op>(*op).handle != &h)
      return not_found();
    target = &op_access::backend<iocp_op>(*op).overlapped;
  }
  if (!h.gate.enter()) return not_found();  // closed: nothing is pending any more
  std::error_code ec;
  {
    std::lock_guard<std::mutex> guard(h.lock);  // the list; a disconnect may swap the socket
    // ERROR_NOT_FOUND when nothing matches, including an operation that has
    // completed but whose packet is still queued: exactly "already completed".
    // Cancel-all asks for each operation in turn: that keeps their start
    // order, and Wine's CancelIoEx(h, NULL) succeeds even when nothing is
    // pending.
    if (target != nullptr) {
      if (withdraw_job(h, op_access::backend<iocp_op>(*op)) ||
          withdraw_held(h, op_access::backend<iocp_op>(*op))) {
        // A flush still waiting for a worker thread, or a recv held behind
        // a pooled one: ended here.
      } else if (!CancelIoEx(h.native(), target)) {
        const auto code = static_cast<int>(GetLastError());
        ec = code == ERROR_NOT_FOUND ? not_found() : native_error(code);
      }
    } else if (!cancel_each(h)) {
      ec = not_found();
    }
  }
  h.gate.leave();
  return ec;
}

std::error_code iocp_backend::close_handle(io_handle& base) {
  auto& h = static_cast<iocp_handle&>(base);
  if (!h.gate.shut()) return make_error_code(error::bad_handle);  // already closed
  // Nobody is inside the gate any more, so the handle cannot change under us.
  // Cancel before closing (each operation in start order, then whatever a
  // start call racing with us left) so that pending operations end with the
  // plain cancellation status on every Windows version (and Wine); what
  // slips through is mapped by io_outcome, as the gate now says "closed by us".
  {
    std::lock_guard<std::mutex> guard(h.lock);
    cancel_each(h);
  }
  CancelIoEx(h.native(), nullptr);
  if (h.is_socket()) {
    if (closesocket(h.socket()) != 0) return winsock::last_error();
  } else if (!CloseHandle(h.native())) {
    return native_error(static_cast<int>(GetLastError()));
  }
  return {};
}

bool iocp_backend::handle_open(const io_handle& h) const noexcept {
  return !static_cast<const iocp_handle&>(h).gate.is_shut();
}

void iocp_backend::release_handle(io_handle& base) noexcept {
  auto& h = static_cast<iocp_handle&>(base);
  (void)close_handle(h);
  drop_ref(h);
}

void iocp_backend::drop_ref(iocp_handle& h) noexcept {
  if (h.refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  {
    std::lock_guard<std::mutex> guard(registry_lock_);
    if (h.prev != nullptr)
      h.prev->next = h.next;
    else
      handles_ = h.next;
    if (h.next != nullptr) h.next->prev = h.prev;
  }
  delete &h;
  release();  // may delete this: nothing may follow
}

std::error_code iocp_backend::post(std::uintptr_t key, std::size_t bytes, operation* op) {
  if (!open_.enter()) return make_error_code(error::port_closed);
  const auto all_bytes = static_cast<std::uint64_t>(bytes);
  OVERLAPPED* ov = nullptr;
  if (op != nullptr) {
    iocp_op& s = op_access::construct_backend<iocp_op>(*op);
    s.post_bytes = all_bytes;
    ov = &s.overlapped;
  } else {
    ov = encode_bare_post(all_bytes);
  }
  in_flight_.fetch_add(1, std::memory_order_seq_cst);
  std::error_code ec;
  if (!PostQueuedCompletionStatus(port_, static_cast<DWORD>(all_bytes & 0xffffffffu), key, ov)) {
    ec = native_error(static_cast<int>(GetLastError()));
    retire(1);
  }
  open_.leave();
  return ec;
}

bool iocp_backend::translate(const OVERLAPPED_ENTRY& entry, completion& out) noexcept {
  OVERLAPPED* ov = entry.lpOverlapped;
  out.key = entry.lpCompletionKey;
  out.error.clear();
  if (is_bare_post(ov)) {
    out.op = nullptr;
    out.bytes =
        static_cast<std::size_t>(bare_post_high_bytes(ov) | entry.dwNumberOfBytesTransferred);
    return true;
  }
  operation* op = op_access::from_backend(ov);
  iocp_op& s = op_access::backend<iocp_op>(*op);
  out.op = op;
  if (op_access::kind(*op) == op_kind::post) {
    out.bytes = static_cast<std::size_t>(s.post_bytes);
    return true;
  }
  iocp_handle& h = *s.handle;
  out.key = h.key;
  int code = 0;
  std::size_t bytes = entry.dwNumberOfBytesTransferred;
  if (s.posted) {  // a result the backend posted itself
    code = s.posted_code;
    bytes = static_cast<std::size_t>(s.post_bytes);
  } else if (const auto status = static_cast<NTSTATUS>(entry.Internal); status != 0) {
    // The request's final NTSTATUS, from the packet itself: an
    // OVERLAPPED_ENTRY is the kernel's FILE_IO_COMPLETION_INFORMATION (key,
    // overlapped, I/O status block). Not OVERLAPPED::Internal: Windows
    // writes it before queuing the packet, but Wine writes it after an
    // immediate completion is queued, so another thread can dequeue the
    // packet while it still says STATUS_PENDING. Converted the way
    // GetQueuedCompletionStatus converts a packet's status.
    code = static_cast<int>(RtlNtStatusToDosError(status));
  }
  if (op_access::kind(*op) == op_kind::disconnect) {
    if (!disconnect_packet(h, *op, s, code, bytes, out.error)) return false;
    out.bytes = 0;
  } else {
    // `then` may be set by a start under h.lock while the operation is
    // tracked: read it under the lock. A stream's connection state too.
    std::unique_lock<std::mutex> guard(h.lock, std::defer_lock);
    if (s.tracked || is_stream(h)) guard.lock();
    untrack(h, *op, s);
    if (h.kind == handle_kind::local_stream && s.then != nullptr) {
      // The zero-length send waiting for this one. (It cannot be refused:
      // a failed post means no resources, and the port is then unusable.)
      iocp_op& next = *s.then;
      untrack(h, *op_access::from_backend(&next), next);
      (void)post_result(h, next, 0, 0);
    }
    out.error = io_outcome(h, *op, s, code, bytes);
    if (is_stream(h)) h.connection.observe(op_access::kind(*op), out.error, bytes);
    if (is_stream(h)) recv_done(h, *op);
    out.bytes = bytes;
  }
  drop_ref(h);  // its packet is out: the handle may go
  return true;
}

void iocp_backend::retire(std::int64_t n) noexcept {
  // seq_cst pairs with close(): either close() sees the count at 0, or this
  // sees the port shut (or both, and post_sentinel runs once).
  if (in_flight_.fetch_sub(n, std::memory_order_seq_cst) == n && open_.is_shut()) post_sentinel();
}

void iocp_backend::post_sentinel() noexcept {
  if (sentinel_posted_.exchange(true, std::memory_order_acq_rel)) return;
  drained_.store(true, std::memory_order_release);
  PostQueuedCompletionStatus(port_, 0, 0, &sentinel_);
}

std::error_code iocp_backend::wait(std::span<completion> out, std::size_t& count, timeout t) {
  count = 0;
  if (drained_.load(std::memory_order_acquire)) return make_error_code(error::port_closed);

  OVERLAPPED_ENTRY entries[wait_batch];
  const auto wanted = static_cast<ULONG>(std::min<std::size_t>(out.size(), wait_batch));
  DWORD wait_ms = to_milliseconds(t);
  const ULONGLONG deadline = GetTickCount64() + wait_ms;
  for (;;) {
    ULONG removed = 0;
    if (!GetQueuedCompletionStatusEx(port_, entries, wanted, &removed, wait_ms, FALSE)) {
      const DWORD code = GetLastError();  // WAIT_TIMEOUT maps to errc::timed_out
      return native_error(static_cast<int>(code));
    }

    bool woken_by_sentinel = false;
    std::size_t n = 0;
    for (ULONG i = 0; i < removed; ++i) {
      if (entries[i].lpOverlapped == &sentinel_) {
        woken_by_sentinel = true;
        continue;
      }
      if (translate(entries[i], out[n])) ++n;  // else an operation that goes on
    }
    count = n;
    if (n != 0) retire(static_cast<std::int64_t>(n));
    if (woken_by_sentinel) {
      // The port is closed and drained. Put the sentinel back so that the next
      // waiter wakes too, and so on: one packet wakes every blocked thread.
      PostQueuedCompletionStatus(port_, 0, 0, &sentinel_);
      if (n == 0) return make_error_code(error::port_closed);
    }
    if (n != 0) return {};
    // Only packets of operations that go on (a disconnect's drain): wait
    // again for what remains of the timeout.
    if (wait_ms != INFINITE) {
      const ULONGLONG now = GetTickCount64();
      wait_ms = now >= deadline ? 0 : static_cast<DWORD>(deadline - now);
    }
  }
}

void iocp_backend::close() noexcept {
  if (!open_.shut()) return;  // already closed
  // No start, post or associate is under way any more and none will begin:
  // cancel what is pending on every associated handle.
  {
    std::lock_guard<std::mutex> guard(registry_lock_);
    for (iocp_handle* h = handles_; h != nullptr; h = h->next) {
      if (!h->gate.enter()) continue;  // being closed: its close aborts its operations
      {
        std::lock_guard<std::mutex> handle_guard(h->lock);
        cancel_each(*h);  // in start order
      }
      h->gate.leave();
    }
  }
  // Wake the waiters once every promised packet is out; if some still are
  // queued or on their way, the thread that dequeues the last one does it.
  if (in_flight_.load(std::memory_order_seq_cst) == 0) post_sentinel();
}

}  // namespace proact::detail
