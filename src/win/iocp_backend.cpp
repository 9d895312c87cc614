#include "iocp_backend.hpp"

#include <winternl.h>  // RtlNtStatusToDosError

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <thread>

#include "common/handle_access.hpp"
#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "proact/error.hpp"
#include "proact/socket.hpp"
#include "winsock.hpp"

namespace proact::detail {

namespace {

// An operation's backend state. The OVERLAPPED comes first: the pointer a
// packet carries is then the address of this state, and
// op_access::from_backend gives back the operation.
struct iocp_op {
  OVERLAPPED overlapped;
  iocp_handle* handle;                      // I/O: the handle it runs on
  int immediate_error;                      // I/O: failed at once, delivered by a posted packet
  std::uint64_t post_bytes;                 // post: the whole count (packets hold 32 bits)
  SOCKET accepted;                          // accept: the socket AcceptEx connects
  LPFN_GETACCEPTEXSOCKADDRS get_addresses;  // accept: parses `addresses`
  unsigned char addresses[2 * winsock::accept_address_length];
};
static_assert(offsetof(iocp_op, overlapped) == 0);

// Most packets one wait takes from the kernel (an OVERLAPPED_ENTRY is 32 bytes).
constexpr ULONG wait_batch = 64;

std::error_code aborted() noexcept {
  return native_error(ERROR_OPERATION_ABORTED);
}
std::error_code not_found() noexcept {
  return native_error(ERROR_NOT_FOUND);
}

HANDLE as_handle(SOCKET s) noexcept {
  return reinterpret_cast<HANDLE>(s);
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

// Codes that an operation ends with when its own socket is closed under it:
// Windows reports the cancellation or a local disconnect, Wine reports
// STATUS_HANDLES_CLOSED. When the close was ours they all mean "aborted".
bool closed_handle_code(DWORD code) noexcept {
  switch (code) {
    case ERROR_OPERATION_ABORTED:
    case ERROR_REQUEST_ABORTED:
    case ERROR_HANDLES_CLOSED:
    case ERROR_NETNAME_DELETED:
    case ERROR_CONNECTION_ABORTED:
    case ERROR_INVALID_HANDLE:
    case WSAENOTSOCK:
    case WSAECONNABORTED:
    case WSAECONNRESET:
    case WSAEINTR:
      return true;
    default:
      return false;
  }
}

// Whether a start call that failed at once with `code` refuses the operation
// (the error is returned, no completion) rather than completing it with the
// error through the port. As on Linux, only a wrong handle or a wrong use of
// connect is refused; what the network or the connection says (reset,
// refused, not connected, ...) is the operation's result.
bool refused_at_start(op_kind kind, int code) noexcept {
  switch (code) {
    case WSAENOTSOCK:
    case WSANOTINITIALISED:
    case ERROR_INVALID_HANDLE:
      return true;
    case WSAEINVAL:
    case WSAEFAULT:
    case WSAEAFNOSUPPORT:
    case WSAEISCONN:
    case WSAEALREADY:
    case WSAEOPNOTSUPP:
      return kind == op_kind::connect;
    default:
      return false;
  }
}

std::size_t requested_bytes(const operation& op) noexcept {
  const buffer* buffers = op_access::buffers(op);
  std::size_t total = 0;
  for (std::size_t i = 0; i < op_access::buffer_count(op); ++i) total += buffers[i].size;
  return total;
}

// Stack copy of the operation's buffers: WSARecv/WSASend capture the array
// during the call, so it need not outlive it.
struct wsabuf_list {
  WSABUF items[max_buffers];
  DWORD count = 0;

  explicit wsabuf_list(const operation& op) noexcept {
    const buffer* buffers = op_access::buffers(op);
    count = static_cast<DWORD>(op_access::buffer_count(op));
    for (DWORD i = 0; i < count; ++i) {
      items[i].len = static_cast<ULONG>(buffers[i].size);  // <= max_transfer_size
      items[i].buf = static_cast<char*>(buffers[i].data);
    }
  }
};

// The result of an overlapped start call that returned `succeeded`: an
// immediate success and "pending" both mean a packet will come (no
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS); any other error means none will.
std::error_code started(bool succeeded) noexcept {
  if (succeeded) return {};
  const int code = WSAGetLastError();
  if (code == WSA_IO_PENDING) return {};
  return native_error(code);
}

std::error_code start_recv(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  wsabuf_list list(op);
  DWORD flags = 0;
  return started(
      WSARecv(h.socket(), list.items, list.count, nullptr, &flags, &s.overlapped, nullptr) == 0);
}

std::error_code start_send(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  wsabuf_list list(op);
  return started(WSASend(h.socket(), list.items, list.count, nullptr, 0, &s.overlapped, nullptr) ==
                 0);
}

std::error_code start_accept(iocp_handle& h, iocp_op& s) noexcept {
  std::error_code ec;
  const winsock::extensions* ext = winsock::load_extensions(h.socket(), h.family, ec);
  if (ext == nullptr) return ec;
  const native_handle_type accepted = sys::open_tcp_socket(h.family, ec);
  if (ec) return ec;
  s.accepted = static_cast<SOCKET>(accepted);
  s.get_addresses = ext->get_accept_ex_sockaddrs;
  DWORD received = 0;
  ec =
      started(ext->accept_ex(h.socket(), s.accepted, s.addresses, 0, winsock::accept_address_length,
                             winsock::accept_address_length, &received, &s.overlapped) != FALSE);
  if (ec) closesocket(static_cast<SOCKET>(accepted));  // no packet: the socket is ours to drop
  return ec;
}

std::error_code start_connect(iocp_handle& h, iocp_op& s, const endpoint& remote) noexcept {
  std::error_code ec;
  const winsock::extensions* ext = winsock::load_extensions(h.socket(), h.family, ec);
  if (ext == nullptr) return ec;
  // ConnectEx requires a bound socket; bind to the any-address (port 0)
  // unless the caller bound it. getsockname fails with WSAEINVAL if unbound.
  sockaddr_storage name{};
  int length = static_cast<int>(sizeof(name));
  if (getsockname(h.socket(), reinterpret_cast<sockaddr*>(&name), &length) != 0) {
    if (WSAGetLastError() != WSAEINVAL) return winsock::last_error();
    const endpoint any = endpoint::any(h.family, 0);
    if (bind(h.socket(), static_cast<const sockaddr*>(any.data()), static_cast<int>(any.size())) !=
        0)
      return winsock::last_error();
  }
  return started(ext->connect_ex(h.socket(), static_cast<const sockaddr*>(remote.data()),
                                 static_cast<int>(remote.size()), nullptr, 0, nullptr,
                                 &s.overlapped) != FALSE);
}

// A completed AcceptEx: inherit the listener's properties, report the peer
// address, and hand the socket to the caller's tcp_socket.
std::error_code finish_accept(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  std::error_code ec;
  if (h.gate.enter()) {  // the listener is still open while we use it
    const SOCKET listener = h.socket();
    if (setsockopt(s.accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                   reinterpret_cast<const char*>(&listener), sizeof(listener)) != 0)
      ec = winsock::last_error();
    h.gate.leave();
  } else {
    ec = aborted();  // we closed the listener before this packet was dequeued
  }
  if (ec) {
    closesocket(s.accepted);
    return ec;
  }
  if (endpoint* peer = op_access::address(op)) {
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_length = 0;
    int remote_length = 0;
    s.get_addresses(s.addresses, 0, winsock::accept_address_length, winsock::accept_address_length,
                    &local, &local_length, &remote, &remote_length);
    *peer = endpoint{};
    if (remote != nullptr && remote_length > 0 &&
        static_cast<std::size_t>(remote_length) <= endpoint::capacity()) {
      std::memcpy(peer->data(), remote, static_cast<std::size_t>(remote_length));
      peer->resize(static_cast<std::size_t>(remote_length));
    }
  }
  auto* target = static_cast<tcp_socket*>(op_access::target(op));
  handle_access::set_fd(*target, static_cast<native_handle_type>(s.accepted), h.family,
                        handle_kind::tcp_stream);
  return {};
}

// A completed ConnectEx: make getpeername, shutdown and friends work.
std::error_code finish_connect(iocp_handle& h) noexcept {
  if (!h.gate.enter()) return aborted();
  std::error_code ec;
  if (setsockopt(h.socket(), SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0) != 0)
    ec = winsock::last_error();
  h.gate.leave();
  return ec;
}

// A zero-length recv completes when the socket becomes readable: data
// waits (left unconsumed: success) or the peer shut down (end of stream).
std::error_code zero_length_recv_result(iocp_handle& h) noexcept {
  if (!h.gate.enter()) return aborted();
  u_long waiting = 0;
  const int rc = ioctlsocket(h.socket(), FIONREAD, &waiting);
  h.gate.leave();
  if (rc != 0) return winsock::last_error();
  return waiting != 0 ? std::error_code{} : make_error_code(error::eof);
}

// The error of a dequeued I/O packet, with proact's rules applied.
// `entry` is the dequeued packet.
std::error_code io_result(iocp_handle& h, operation& op, iocp_op& s,
                          const OVERLAPPED_ENTRY& entry) noexcept {
  const op_kind kind = op_access::kind(op);
  const std::size_t bytes = entry.dwNumberOfBytesTransferred;
  // The request's final NTSTATUS, from the packet itself: an OVERLAPPED_ENTRY
  // is the kernel's FILE_IO_COMPLETION_INFORMATION (key, overlapped, I/O
  // status block), so Internal is the status the request completed with.
  // Not OVERLAPPED::Internal: Windows writes it before queuing the packet,
  // but Wine writes it after an immediate completion is queued, so another
  // thread can dequeue the packet while it still says STATUS_PENDING.
  // Converted the way GetQueuedCompletionStatus converts a packet's status.
  const auto status = static_cast<NTSTATUS>(entry.Internal);
  if (status != 0) {
    DWORD code = RtlNtStatusToDosError(status);
    if (h.gate.is_shut() && closed_handle_code(code)) code = ERROR_OPERATION_ABORTED;
    if (kind == op_kind::accept) closesocket(s.accepted);
    return native_error(static_cast<int>(code));
  }
  switch (kind) {
    case op_kind::recv:
      if (bytes != 0) return {};
      if (h.gate.is_shut()) return aborted();
      // A stream recv that got nothing into a non-empty buffer: end of stream.
      if (requested_bytes(op) > 0) return make_error_code(error::eof);
      return zero_length_recv_result(h);
    case op_kind::accept:
      return finish_accept(h, op, s);
    case op_kind::connect:
      return finish_connect(h);
    default:
      return {};
  }
}

// One start call, made by the calling thread or (under Wine) the start thread.
struct start_request {
  iocp_handle* h;
  operation* op;
  iocp_op* s;
  const endpoint* remote;
};

std::error_code issue_start(void* context) noexcept {
  const auto& r = *static_cast<start_request*>(context);
  switch (op_access::kind(*r.op)) {
    case op_kind::recv:
      return start_recv(*r.h, *r.op, *r.s);
    case op_kind::send:
      return start_send(*r.h, *r.op, *r.s);
    case op_kind::accept:
      return start_accept(*r.h, *r.s);
    case op_kind::connect:
      if (r.remote != nullptr) return start_connect(*r.h, *r.s, *r.remote);
      break;
    default:
      break;
  }
  return make_error_code(error::invalid_argument);
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
  } else if (CreateIoCompletionPort(as_handle(h->socket()), port_, reinterpret_cast<ULONG_PTR>(h),
                                    0) == nullptr) {
    const DWORD code = GetLastError();
    // A socket associates with one port once; a second association (another
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

  // From here on a successful start call hands `op` to whichever thread
  // dequeues its packet: neither op nor s is touched after it.
  start_request request{&h, &op, &s, remote};
  std::error_code ec = starter_ ? starter_->run(&issue_start, &request) : issue_start(&request);
  // No packet will come from the kernel. An I/O result (reset, refused, ...)
  // is still delivered through the port (items 1 and 2): post the packet
  // ourselves. Writing `s` is safe here, as nothing else has it.
  if (ec && ec.category() == native_category() &&
      !refused_at_start(op_access::kind(op), ec.value())) {
    s.immediate_error = ec.value();
    if (PostQueuedCompletionStatus(port_, 0, reinterpret_cast<ULONG_PTR>(&h), &s.overlapped))
      ec.clear();
    else
      ec = native_error(static_cast<int>(GetLastError()));
  }
  if (ec) {                                          // refused: no packet at all
    h.refs.fetch_sub(1, std::memory_order_relaxed);  // the public handle still holds one
    retire(1);
  }
  open_.leave();
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
  } else if (h.refs.load(std::memory_order_acquire) == 1) {
    // Only the public handle's reference: no operation is in flight. Asking
    // the kernel would do on Windows, but Wine's CancelIoEx(h, NULL) succeeds
    // even when nothing is pending.
    return not_found();
  }
  if (!h.gate.enter()) return not_found();  // closed: nothing is pending any more
  std::error_code ec;
  // ERROR_NOT_FOUND when nothing matches, including an operation that has
  // completed but whose packet is still queued: exactly "already completed".
  if (!CancelIoEx(as_handle(h.socket()), target))
    ec = native_error(static_cast<int>(GetLastError()));
  h.gate.leave();
  return ec;
}

std::error_code iocp_backend::close_handle(io_handle& base) {
  auto& h = static_cast<iocp_handle&>(base);
  if (!h.gate.shut()) return make_error_code(error::bad_handle);  // already closed
  // Cancel before closing so that pending operations end with the plain
  // cancellation status on every Windows version (and Wine); what slips
  // through is mapped by io_result, as the gate now says "closed by us".
  CancelIoEx(as_handle(h.socket()), nullptr);
  if (closesocket(h.socket()) != 0) return winsock::last_error();
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

void iocp_backend::translate(const OVERLAPPED_ENTRY& entry, completion& out) noexcept {
  OVERLAPPED* ov = entry.lpOverlapped;
  out.key = entry.lpCompletionKey;
  out.error.clear();
  if (is_bare_post(ov)) {
    out.op = nullptr;
    out.bytes =
        static_cast<std::size_t>(bare_post_high_bytes(ov) | entry.dwNumberOfBytesTransferred);
    return;
  }
  operation* op = op_access::from_backend(ov);
  iocp_op& s = op_access::backend<iocp_op>(*op);
  out.op = op;
  if (op_access::kind(*op) == op_kind::post) {
    out.bytes = static_cast<std::size_t>(s.post_bytes);
    return;
  }
  iocp_handle& h = *s.handle;
  out.key = h.key;
  out.bytes = entry.dwNumberOfBytesTransferred;
  out.error =
      s.immediate_error != 0 ? native_error(s.immediate_error) : io_result(h, *op, s, entry);
  drop_ref(h);  // its packet is out: the handle may go
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
  ULONG removed = 0;
  if (!GetQueuedCompletionStatusEx(port_, entries, wanted, &removed, to_milliseconds(t), FALSE)) {
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
    translate(entries[i], out[n++]);
  }
  count = n;
  if (n != 0) retire(static_cast<std::int64_t>(n));
  if (woken_by_sentinel) {
    // The port is closed and drained. Put the sentinel back so that the next
    // waiter wakes too, and so on: one packet wakes every blocked thread.
    PostQueuedCompletionStatus(port_, 0, 0, &sentinel_);
    if (n == 0) return make_error_code(error::port_closed);
  }
  return {};
}

void iocp_backend::close() noexcept {
  if (!open_.shut()) return;  // already closed
  // No start, post or associate is under way any more and none will begin:
  // cancel what is pending on every associated handle.
  {
    std::lock_guard<std::mutex> guard(registry_lock_);
    for (iocp_handle* h = handles_; h != nullptr; h = h->next) {
      if (!h->gate.enter()) continue;  // being closed: closesocket aborts its operations
      CancelIoEx(as_handle(h->socket()), nullptr);
      h->gate.leave();
    }
  }
  // Wake the waiters once every promised packet is out; if some still are
  // queued or on their way, the thread that dequeues the last one does it.
  if (in_flight_.load(std::memory_order_seq_cst) == 0) post_sentinel();
}

}  // namespace proact::detail
