#include "linux/uring_backend.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>

#include "common/completion_engine.hpp"
#include "common/handle_access.hpp"
#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "linux/uring_ring.hpp"
#include "proact/error.hpp"
#include "proact/socket.hpp"

namespace proact::detail {
namespace {

// user_data: an operation's address (16-byte aligned), a cancel_request's
// address with request_tag set, or one of the small constants.
constexpr std::uint64_t request_tag = 1;
constexpr std::uint64_t wake_tag = 2;    // the eventfd read that interrupt() completes
constexpr std::uint64_t cancel_tag = 4;  // an ASYNC_CANCEL nobody waits for (close)

constexpr unsigned ring_entries = 1024;

// The wake read's target. It is never read; it is static because the kernel
// may still complete that read while a backend is being torn down.
alignas(8) std::uint64_t wake_sink;

struct uring_socket;
struct cancel_request;

// Per-operation state, kept inside the operation (no allocation).
struct uring_op {
  uring_socket* socket;
  operation* next;            // link in its socket's queue
  std::size_t done;           // bytes already sent (a stream send completes whole)
  bool in_kernel;             // its SQE went to the ring and its CQE is not handled yet
  bool cancel_requested;      // cancel, close_handle or close asked for its end
  bool connect_poll;          // a reissued connect waits for writability instead
  unsigned char peek;         // a zero-byte recv peeks one byte here
  socklen_t address_size;     // accept: in/out; connect: in
  cancel_request* canceller;  // the cancel() call waiting for the kernel's answer
  union {
    msghdr msg;                                   // recvmsg, sendmsg
    unsigned char address[sizeof(sockaddr_in6)];  // accept, connect
  };
};

uring_op& state_of(operation& op) noexcept {
  return op_access::backend<uring_op>(op);
}

// FIFO of the started operations of one kind on one socket.
class op_queue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  operation* front() const noexcept { return head_; }
  void push(operation& op) noexcept {
    state_of(op).next = nullptr;
    if (tail_ != nullptr)
      state_of(*tail_).next = &op;
    else
      head_ = &op;
    tail_ = &op;
  }
  operation* pop() noexcept {
    operation* op = head_;
    if (op != nullptr) {
      head_ = state_of(*op).next;
      if (head_ == nullptr) tail_ = nullptr;
    }
    return op;
  }
  bool contains(const operation& op) const noexcept {
    for (operation* it = head_; it != nullptr; it = state_of(*it).next)
      if (it == &op) return true;
    return false;
  }
  // Whether an operation ahead of `op` is being cancelled already.
  bool cancel_ahead_of(const operation& op) const noexcept {
    for (operation* it = head_; it != nullptr && it != &op; it = state_of(*it).next)
      if (state_of(*it).cancel_requested) return true;
    return false;
  }
  void remove(operation& op) noexcept {
    operation* prev = nullptr;
    for (operation* it = head_; it != nullptr; prev = it, it = state_of(*it).next) {
      if (it != &op) continue;
      operation* next = state_of(op).next;
      if (prev != nullptr)
        state_of(*prev).next = next;
      else
        head_ = next;
      if (tail_ == &op) tail_ = prev;
      return;
    }
  }
  template <class F>
  void for_each(F&& f) const noexcept {
    for (operation* it = head_; it != nullptr;) {
      operation* next = state_of(*it).next;
      f(*it);
      it = next;
    }
  }

 private:
  operation* head_ = nullptr;
  operation* tail_ = nullptr;
};

// A cancel() call waiting for the kernel's answer about its operation: an
// operation that completed in the kernel but whose CQE nobody reaped yet is
// no longer pending (not_found, result kept), as with CancelIoEx.
struct alignas(16) cancel_request {
  operation* op = nullptr;
  uring_socket* socket = nullptr;
  bool op_ended = false;     // socket lock: the operation's completion is out
  bool took_effect = false;  // socket lock: it ends (or ended) aborted
  bool resolved = false;     // cq_lock_: the ASYNC_CANCEL's CQE was handled
};

struct uring_socket final : io_handle {
  using io_handle::io_handle;

  std::mutex lock;  // guards everything below
  std::atomic<bool> open{true};
  op_queue reads;          // accept, recv
  op_queue writes;         // connect, send
  unsigned in_kernel = 0;  // operations and awaited cancels whose CQE is outstanding
  bool released = false;   // the public handle is gone: free once in_kernel is 0
  // The port's list of associated, open sockets (under the registry lock).
  uring_socket* prev_registered = nullptr;
  uring_socket* next_registered = nullptr;
  bool registered = false;
};

// proact::buffer and const_buffer are laid out like iovec.
static_assert(sizeof(buffer) == sizeof(iovec) && sizeof(const_buffer) == sizeof(iovec));
static_assert(offsetof(buffer, data) == offsetof(iovec, iov_base));
static_assert(offsetof(buffer, size) == offsetof(iovec, iov_len));
static_assert(sizeof(uring_op) <= op_backend_storage);

std::size_t total_size(const buffer* buffers, std::size_t count) noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += buffers[i].size;
  return total;
}

iovec* as_iovec(const buffer* b) noexcept {
  return reinterpret_cast<iovec*>(const_cast<buffer*>(b));
}

std::error_code aborted() noexcept {
  return native_error(ECANCELED);
}

completion completion_for(operation& op, std::size_t bytes, std::error_code ec) noexcept {
  return completion{op_access::key(op), &op, bytes, ec};
}

// ---- SQE preparation ---------------------------------------------------------------

void prepare_recv(const uring_socket& s, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  if (total_size(bufs, count) == 0) {
    // Zero-byte recv: completes when data is readable, consuming nothing.
    io_uring_prep_recv(sqe, s.fd, &st.peek, 1, MSG_PEEK);
  } else if (count == 1) {
    io_uring_prep_recv(sqe, s.fd, bufs[0].data, bufs[0].size, 0);
  } else {
    st.msg = msghdr{};
    st.msg.msg_iov = as_iovec(bufs);
    st.msg.msg_iovlen = count;
    io_uring_prep_recvmsg(sqe, s.fd, &st.msg, 0);
  }
}

// Sends what is left after st.done bytes. A part-sent buffer goes out alone
// (so the caller's buffer array serves as is for the rest); no MSG_WAITALL,
// so every CQE reports exactly what went.
void prepare_send(const uring_socket& s, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  std::size_t i = 0;
  std::size_t skip = st.done;
  while (i + 1 < count && skip >= bufs[i].size) {
    skip -= bufs[i].size;
    ++i;
  }
  if (skip != 0 || i + 1 == count) {
    const char* data = static_cast<const char*>(bufs[i].data);
    if (skip != 0) data += skip;
    io_uring_prep_send(sqe, s.fd, data, bufs[i].size - skip, MSG_NOSIGNAL);
  } else {
    st.msg = msghdr{};
    st.msg.msg_iov = as_iovec(bufs + i);
    st.msg.msg_iovlen = count - i;
    io_uring_prep_sendmsg(sqe, s.fd, &st.msg, MSG_NOSIGNAL);
  }
}

void prepare(const uring_socket& s, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  switch (op_access::kind(op)) {
    case op_kind::accept:
      st.address_size = sizeof(st.address);
      io_uring_prep_accept(sqe, s.fd, reinterpret_cast<sockaddr*>(st.address), &st.address_size,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case op_kind::connect:
      if (st.connect_poll)
        io_uring_prep_poll_add(sqe, s.fd, POLLOUT);
      else
        io_uring_prep_connect(sqe, s.fd, reinterpret_cast<const sockaddr*>(st.address),
                              st.address_size);
      break;
    case op_kind::recv:
      prepare_recv(s, op, sqe);
      break;
    case op_kind::send:
      prepare_send(s, op, sqe);
      break;
    default:
      io_uring_prep_nop(sqe);
  }
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op));
}

// ---- what a CQE means -----------------------------------------------------------------

// An operation's CQE either ends it (`result` is its completion) or asks for
// the same SQE again (the rest of a send, an accept whose connection was
// reset before it was taken, ...).
enum class outcome { complete, reissue };

outcome recv_result(operation& op, int res, completion& result) noexcept {
  const bool zero_byte = total_size(op_access::buffers(op), op_access::buffer_count(op)) == 0;
  if (res > 0) {
    result = completion_for(op, zero_byte ? 0 : static_cast<std::size_t>(res), {});
  } else if (res == 0) {
    result = completion_for(op, 0, make_error_code(error::eof));  // orderly shutdown
  } else if (res == -EINTR || res == -EAGAIN) {
    return outcome::reissue;
  } else {
    result = completion_for(op, 0, native_error(-res));
  }
  return outcome::complete;
}

outcome send_result(operation& op, int res, completion& result) noexcept {
  uring_op& st = state_of(op);
  if (res >= 0) {
    st.done += static_cast<std::size_t>(res);
    if (st.done < total_size(op_access::buffers(op), op_access::buffer_count(op)))
      return outcome::reissue;  // a stream send completes whole
    result = completion_for(op, st.done, {});
  } else if (res == -EINTR || res == -EAGAIN) {
    return outcome::reissue;
  } else {
    result = completion_for(op, st.done, native_error(-res));  // reports what went
  }
  return outcome::complete;
}

outcome accept_result(const uring_socket& s, operation& op, int res, completion& result) noexcept {
  uring_op& st = state_of(op);
  if (res >= 0) {
    auto* peer = static_cast<tcp_socket*>(op_access::target(op));
    handle_access::set_fd(*peer, res, s.family, handle_kind::tcp_stream);
    if (endpoint* address = op_access::address(op)) {
      std::memcpy(address->data(), st.address, sizeof(st.address));
      address->resize(st.address_size);
    }
    result = completion_for(op, 0, {});
    return outcome::complete;
  }
  // A connection reset before we took it is not the listener's failure.
  if (res == -ECONNABORTED || res == -EINTR || res == -EAGAIN) return outcome::reissue;
  result = completion_for(op, 0, native_error(-res));
  return outcome::complete;
}

// After a connect_poll wait: SO_ERROR says how the attempt ended; only a peer
// address proves the connection.
int connect_error(const uring_socket& s) noexcept {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  if (err != 0) return err;
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return errno;
  return 0;
}

outcome connect_result(const uring_socket& s, operation& op, int res, completion& result) noexcept {
  if (res >= 0 && state_of(op).connect_poll) res = -connect_error(s);
  if (res == -EINTR || res == -EALREADY) {
    state_of(op).connect_poll = true;  // the attempt goes on: wait for its end
    return outcome::reissue;
  }
  result = completion_for(op, 0, res == 0 ? std::error_code{} : native_error(-res));
  return outcome::complete;
}

// The refusals connect() itself gives (and epoll returns at start): the
// socket is connected already, or a connection attempt is under way.
std::error_code connect_refusal(const uring_socket& s) noexcept {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (::getsockopt(s.fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return native_error(errno);
  switch (info.tcpi_state) {
    case TCP_CLOSE:
      return {};
    case TCP_SYN_SENT:
      return native_error(EALREADY);
    default:
      return native_error(EISCONN);
  }
}

class uring_backend final : public port_backend, private event_source {
 public:
  explicit uring_backend(unsigned concurrency) noexcept : engine_(*this, *this, concurrency) {}

  ~uring_backend() override {
    if (wakefd_ >= 0) ::close(wakefd_);
  }

  std::error_code init() noexcept;

  backend_kind kind() const noexcept override { return backend_kind::io_uring; }
  unsigned concurrency() const noexcept override { return engine_.concurrency(); }

  std::error_code associate(native_handle_type fd, handle_kind kind, address_family family,
                            std::uintptr_t key, io_handle*& out) override;
  std::error_code start(io_handle& h, operation& op, const endpoint* remote) override;
  std::error_code cancel(io_handle& h, operation* op) override;
  std::error_code close_handle(io_handle& h) override;
  bool handle_open(const io_handle& h) const noexcept override {
    return static_cast<const uring_socket&>(h).open.load(std::memory_order_acquire);
  }
  void release_handle(io_handle& h) noexcept override;
  // Issue 5 operations arrive here next; until then they are refused.
  std::error_code shutdown_send(io_handle&) override {
    return make_error_code(error::invalid_argument);
  }
  std::error_code skip_completion_on_success(io_handle&) override {
    return make_error_code(error::invalid_argument);
  }

  std::error_code post(std::uintptr_t key, std::size_t bytes, operation* op) override {
    return engine_.post(completion{key, op, bytes, {}});
  }
  std::error_code wait(std::span<completion> out, std::size_t& count, timeout t) override {
    return engine_.wait(out, count, t);
  }
  void close() noexcept override;

 private:
  // event_source
  void poll_events(int timeout_ms, completion_batch& out) noexcept override;
  void interrupt() noexcept override;
  bool has_pending_io() const noexcept override {
    return pending_ops_.load(std::memory_order_relaxed) != 0;
  }
  void poll_delivered() noexcept override { release_cq(); }

  // All take the socket's lock held.
  bool issue(uring_socket& s, operation& op, unsigned& position) noexcept;
  bool may_continue(const uring_socket& s, const uring_op& st) const noexcept {
    return !st.cancel_requested && s.open.load(std::memory_order_relaxed) &&
           !closed_.load(std::memory_order_acquire);
  }
  outcome interpret(const uring_socket& s, operation& op, int res, completion& result) noexcept;
  void advance(uring_socket& s, op_queue& q, completion_batch& out) noexcept;
  bool request_cancel(uring_socket& s, op_queue& q, operation& op, cancel_request* req,
                      unsigned& position, bool& submit) noexcept;
  std::size_t request_cancel_all(uring_socket& s, op_queue& q, cancel_request* head_req,
                                 unsigned& position, bool& submit) noexcept;
  void finish_now(operation& op, op_queue& q) noexcept;

  // Without any lock held: until the kernel answered each ASYNC_CANCEL.
  void await_answers(const cancel_request* reqs, std::size_t n) noexcept;

  // The completion side: one thread at a time holds the CQ.
  void reap(int timeout_ms, completion_batch& out) noexcept;
  void dispatch(const uring_cqe& cqe, completion_batch& out) noexcept;
  void on_operation_cqe(operation& op, int res, completion_batch& out) noexcept;
  void on_cancel_cqe(cancel_request& req) noexcept;
  void arm_wake() noexcept;
  void acquire_cq_to_poll() noexcept;
  void acquire_cq_to_drain() noexcept;
  void release_cq() noexcept;
  void drain() noexcept;

  void unregister(uring_socket& s) noexcept;
  void destroy(uring_socket& s) noexcept {
    delete &s;
    release();  // the socket's reference; may destroy *this
  }

  uring_ring ring_;
  int wakefd_ = -1;
  bool wake_armed_ = false;  // under the CQ role
  completion_engine engine_;
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> pending_ops_{0};    // started and not yet completed
  std::atomic<std::size_t> in_kernel_ops_{0};  // SQEs sent whose CQE is outstanding

  std::mutex registry_lock_;
  uring_socket* registered_ = nullptr;

  // The CQ role: held by the poller until its completions are in the port
  // queue, by close() while it drains, or by a cancel() reaping its answer.
  std::mutex cq_lock_;
  std::condition_variable cq_free_;
  bool cq_busy_ = false;
  bool drain_waiting_ = false;
};

op_queue& queue_for(uring_socket& s, const operation& op) noexcept {
  const op_kind kind = op_access::kind(op);
  return (kind == op_kind::recv || kind == op_kind::accept) ? s.reads : s.writes;
}

std::error_code uring_backend::init() noexcept {
  if (std::error_code ec = ring_.open(ring_entries)) return ec;
  // Blocking on purpose: io_uring waits for a blocking file with its poll
  // machinery, whereas a read of an O_NONBLOCK file fails with -EAGAIN.
  wakefd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wakefd_ < 0) return native_error(errno);
  arm_wake();
  if (!wake_armed_) return native_error(ENOBUFS);
  (void)ring_.submit_pending();
  return {};
}

// ---- handles -------------------------------------------------------------------------

std::error_code uring_backend::associate(native_handle_type fd, handle_kind kind,
                                         address_family family, std::uintptr_t key,
                                         io_handle*& out) {
  auto* s = new (std::nothrow) uring_socket(*this, fd, kind, key, family);
  if (s == nullptr) return native_error(ENOMEM);
  std::lock_guard registry(registry_lock_);
  if (closed_.load(std::memory_order_acquire)) {
    delete s;
    return make_error_code(error::port_closed);
  }
  // Nothing to register with the kernel: each SQE names the descriptor.
  s->next_registered = registered_;
  if (registered_ != nullptr) registered_->prev_registered = s;
  registered_ = s;
  s->registered = true;
  add_ref();  // the socket keeps the backend alive
  out = s;
  return {};
}

void uring_backend::unregister(uring_socket& s) noexcept {
  std::lock_guard registry(registry_lock_);
  if (!s.registered) return;
  if (s.prev_registered != nullptr) s.prev_registered->next_registered = s.next_registered;
  if (s.next_registered != nullptr) s.next_registered->prev_registered = s.prev_registered;
  if (registered_ == &s) registered_ = s.next_registered;
  s.prev_registered = s.next_registered = nullptr;
  s.registered = false;
}

std::error_code uring_backend::close_handle(io_handle& h) {
  auto& s = static_cast<uring_socket&>(h);
  unsigned position = 0;
  bool submit = false;
  {
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    s.open.store(false, std::memory_order_release);
    // The heads are cancelled in the kernel; the operations queued behind
    // them are aborted, in order, when the heads' CQEs arrive.
    request_cancel_all(s, s.reads, nullptr, position, submit);
    request_cancel_all(s, s.writes, nullptr, position, submit);
  }
  // Every SQE naming this descriptor is consumed before the number is given
  // up (it may name another socket a moment later). Without operations in
  // the kernel there is no such SQE.
  if (submit) ring_.submit_through(position);
  (void)sys::close(s.fd);
  unregister(s);
  return {};
}

void uring_backend::release_handle(io_handle& h) noexcept {
  auto& s = static_cast<uring_socket&>(h);
  if (s.open.load(std::memory_order_acquire)) (void)close_handle(s);
  bool free_now = false;
  {
    // CQEs still on their way refer to the socket: the last one frees it.
    std::lock_guard lock(s.lock);
    s.released = true;
    free_now = s.in_kernel == 0;
  }
  if (free_now) destroy(s);
}

// ---- operations ------------------------------------------------------------------------

std::error_code uring_backend::start(io_handle& h, operation& op, const endpoint* remote) {
  auto& s = static_cast<uring_socket&>(h);
  const op_kind kind = op_access::kind(op);
  if (kind != op_kind::recv && kind != op_kind::send && kind != op_kind::accept &&
      kind != op_kind::connect)
    return make_error_code(error::invalid_argument);  // issue 5 kinds: not yet on io_uring
  uring_op& st = op_access::construct_backend<uring_op>(op);
  st.socket = &s;
  if (kind == op_kind::connect) {
    // Copied: the caller's endpoint need not outlive the start call.
    std::memcpy(st.address, remote->data(), remote->size());
    st.address_size = static_cast<socklen_t>(remote->size());
  }

  unsigned position = 0;
  bool issued = false;
  {
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    if (closed_.load(std::memory_order_acquire)) return make_error_code(error::port_closed);
    if (kind == op_kind::connect) {
      if (!s.writes.empty()) return make_error_code(error::operation_in_progress);
      if (std::error_code ec = connect_refusal(s)) return ec;
    }
    op_queue& q = queue_for(s, op);
    // Behind a pending operation of the same direction it waits its turn
    // (per-socket order); otherwise it goes to the kernel now.
    if (q.empty()) {
      if (!issue(s, op, position)) return native_error(ENOBUFS);
      issued = true;
    }
    q.push(op);
    pending_ops_.fetch_add(1, std::memory_order_relaxed);
  }
  // Submitted before returning, as IOCP starts an operation in the call: a
  // send's bytes are on their way even if nobody waits on the port.
  if (issued) ring_.submit_through(position);
  return {};
}

bool uring_backend::issue(uring_socket& s, operation& op, unsigned& position) noexcept {
  if (!ring_.push([&](io_uring_sqe* sqe) { prepare(s, op, sqe); }, position)) return false;
  state_of(op).in_kernel = true;
  ++s.in_kernel;
  in_kernel_ops_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Completes a queued operation that is not in the kernel, now.
void uring_backend::finish_now(operation& op, op_queue& q) noexcept {
  q.remove(op);
  pending_ops_.fetch_sub(1, std::memory_order_relaxed);
  const completion c = completion_for(op, state_of(op).done, aborted());
  engine_.deliver(std::span<const completion>(&c, 1));
}

// Asks for the end of `op`, pending on s in q (socket lock held). In the
// kernel: an ASYNC_CANCEL, whose answer `req` (if any) waits for. Queued
// behind the head: aborted now, or right after an operation ahead of it whose
// end is on the way already (order kept).
bool uring_backend::request_cancel(uring_socket& s, op_queue& q, operation& op, cancel_request* req,
                                   unsigned& position, bool& submit) noexcept {
  uring_op& st = state_of(op);
  if (!st.in_kernel) {
    if (q.cancel_ahead_of(op))
      st.cancel_requested = true;
    else
      finish_now(op, q);
    return true;
  }
  const std::uint64_t user_data =
      req != nullptr ? reinterpret_cast<std::uint64_t>(req) | request_tag : cancel_tag;
  if (req != nullptr) {
    // Filled in before the SQE is published: another thread's enter may
    // submit it, and the CQ holder handle its CQE, at once.
    req->op = &op;
    req->socket = &s;
  }
  const bool queued = ring_.push(
      [&](io_uring_sqe* sqe) {
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op), 0);
        io_uring_sqe_set_data64(sqe, user_data);
      },
      position);
  if (!queued) return false;
  // Its CQE (aborted, or its own result if it won the race) ends it; the
  // socket lock, held here, keeps that CQE's handling after these lines.
  st.cancel_requested = true;
  submit = true;
  if (req != nullptr) {
    st.canceller = req;
    ++s.in_kernel;  // the answer refers to the socket
    in_kernel_ops_.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

// Every pending operation of q not ended already; returns how many.
std::size_t uring_backend::request_cancel_all(uring_socket& s, op_queue& q,
                                              cancel_request* head_req, unsigned& position,
                                              bool& submit) noexcept {
  std::size_t n = 0;
  q.for_each([&](operation& op) {
    uring_op& st = state_of(op);
    if (st.cancel_requested) return;
    if (st.in_kernel) {
      if (!request_cancel(s, q, op, head_req, position, submit)) return;
    } else {
      st.cancel_requested = true;  // the head's CQE aborts it, in order
    }
    ++n;
  });
  return n;
}

std::error_code uring_backend::cancel(io_handle& h, operation* op) {
  auto& s = static_cast<uring_socket&>(h);
  cancel_request reqs[2];  // the heads in the kernel: one per direction
  std::size_t n_reqs = 0;
  std::size_t ended_here = 0;  // operations that end aborted whatever the kernel says
  unsigned position = 0;
  bool submit = false;
  {
    std::lock_guard lock(s.lock);
    if (op == nullptr) {
      for (op_queue* q : {&s.reads, &s.writes}) {
        operation* head = q->front();
        const bool head_asked =
            head != nullptr && state_of(*head).in_kernel && !state_of(*head).cancel_requested;
        const std::size_t n = request_cancel_all(s, *q, &reqs[n_reqs], position, submit);
        if (head_asked && state_of(*head).canceller == &reqs[n_reqs]) {
          ++n_reqs;
          ended_here += n - 1;
        } else {
          ended_here += n;
        }
      }
      if (n_reqs == 0 && ended_here == 0) return native_error(ENOENT);
    } else {
      op_queue* q = s.reads.contains(*op) ? &s.reads : s.writes.contains(*op) ? &s.writes : nullptr;
      // Not pending, or its end is on the way already: nothing to cancel.
      if (q == nullptr || state_of(*op).cancel_requested) return native_error(ENOENT);
      const bool in_kernel = state_of(*op).in_kernel;
      if (!request_cancel(s, *q, *op, &reqs[0], position, submit)) return native_error(ENOBUFS);
      if (in_kernel)
        n_reqs = 1;
      else
        ended_here = 1;
    }
  }
  if (submit) ring_.submit_through(position);
  if (n_reqs == 0) return {};
  await_answers(reqs, n_reqs);
  for (std::size_t i = 0; i < n_reqs; ++i)
    if (reqs[i].took_effect) ++ended_here;
  return ended_here != 0 ? std::error_code{} : native_error(ENOENT);
}

// The ASYNC_CANCEL's CQE was posted while it ran (before submit_through
// returned): the CQ holder handles it soon, or this thread takes the CQ and
// does. What it reaps is delivered before the CQ is handed on.
void uring_backend::await_answers(const cancel_request* reqs, std::size_t n) noexcept {
  auto answered = [&] {
    for (std::size_t i = 0; i < n; ++i)
      if (!reqs[i].resolved) return false;
    return true;
  };
  std::unique_lock lock(cq_lock_);
  for (int attempt = 0;; ++attempt) {
    cq_free_.wait(lock, [&] { return answered() || !cq_busy_; });
    if (answered()) return;
    cq_busy_ = true;
    lock.unlock();
    {
      completion_batch out(engine_);
      reap(attempt == 0 ? 0 : 1, out);
    }
    lock.lock();
    cq_busy_ = false;
    cq_free_.notify_all();
  }
}

// ---- completions ---------------------------------------------------------------------

outcome uring_backend::interpret(const uring_socket& s, operation& op, int res,
                                 completion& result) noexcept {
  if (res == -ECANCELED && !state_of(op).cancel_requested) {
    // Nobody asked for this: io_uring ties a request to the thread that
    // submitted it, and when that thread has exited it fails the request's
    // retry after a poll wakeup with -ECANCELED (observed on Linux 6.x).
    // Nothing was transferred; issue it again from this thread.
    if (op_access::kind(op) == op_kind::connect)
      state_of(op).connect_poll = true;  // the connection attempt is under way
    return outcome::reissue;
  }
  switch (op_access::kind(op)) {
    case op_kind::recv:
      return recv_result(op, res, result);
    case op_kind::send:
      return send_result(op, res, result);
    case op_kind::accept:
      return accept_result(s, op, res, result);
    case op_kind::connect:
      // The descriptor is only used while the socket is open.
      if (!s.open.load(std::memory_order_relaxed) && res >= 0 && state_of(op).connect_poll)
        res = -ECANCELED;
      return connect_result(s, op, res, result);
    default:
      result = completion_for(op, 0, make_error_code(error::invalid_argument));
      return outcome::complete;
  }
}

void uring_backend::on_operation_cqe(operation& op, int res, completion_batch& out) noexcept {
  uring_op& st = state_of(op);
  uring_socket& s = *st.socket;
  bool free_socket = false;
  {
    std::lock_guard lock(s.lock);
    st.in_kernel = false;
    --s.in_kernel;
    in_kernel_ops_.fetch_sub(1, std::memory_order_relaxed);
    op_queue& q = queue_for(s, op);
    completion result;
    bool finished = interpret(s, op, res, result) == outcome::complete;
    if (!finished) {
      unsigned position = 0;  // submitted with the rest of this batch
      if (!may_continue(s, st)) {
        result = completion_for(op, st.done, aborted());
        finished = true;
      } else if (!issue(s, op, position)) {
        result = completion_for(op, st.done, native_error(ENOBUFS));
        finished = true;
      }
    }
    if (finished) {
      if (cancel_request* req = st.canceller) {
        // The cancel() waiting for its answer learns how the operation ended.
        req->op_ended = true;
        req->took_effect = st.cancel_requested && result.error == aborted();
        st.canceller = nullptr;
      }
      q.pop();  // op is the head; popped before its completion can reach anyone
      pending_ops_.fetch_sub(1, std::memory_order_relaxed);
      out.push(result);
      advance(s, q, out);
    }
    free_socket = s.released && s.in_kernel == 0;
  }
  if (free_socket) destroy(s);
}

// The head of q completed: send the next one to the kernel, or end the ones
// whose cancellation is pending (in start order).
void uring_backend::advance(uring_socket& s, op_queue& q, completion_batch& out) noexcept {
  while (operation* next = q.front()) {
    uring_op& st = state_of(*next);
    completion result;
    if (may_continue(s, st)) {
      unsigned position = 0;
      if (issue(s, *next, position)) return;
      result = completion_for(*next, 0, native_error(ENOBUFS));
    } else {
      result = completion_for(*next, st.done, aborted());
    }
    q.pop();
    pending_ops_.fetch_sub(1, std::memory_order_relaxed);
    out.push(result);
  }
}

void uring_backend::on_cancel_cqe(cancel_request& req) noexcept {
  uring_socket& s = *req.socket;
  bool free_socket = false;
  {
    std::lock_guard lock(s.lock);
    --s.in_kernel;
    in_kernel_ops_.fetch_sub(1, std::memory_order_relaxed);
    if (!req.op_ended) {
      // Still pending: the cancellation reached it (0), or it is past the
      // point of cancelling (-EALREADY) and ends soon; either way it was
      // pending when cancel() was called. It may end after cancel() returns.
      req.took_effect = true;
      state_of(*req.op).canceller = nullptr;
    }
    free_socket = s.released && s.in_kernel == 0;
  }
  {
    std::lock_guard lock(cq_lock_);
    req.resolved = true;  // from here on the cancel() call may return: req is gone
  }
  cq_free_.notify_all();
  if (free_socket) destroy(s);
}

void uring_backend::dispatch(const uring_cqe& cqe, completion_batch& out) noexcept {
  if ((cqe.user_data & request_tag) != 0) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): user_data carries the address
    on_cancel_cqe(*reinterpret_cast<cancel_request*>(cqe.user_data & ~request_tag));
  } else if (cqe.user_data == wake_tag) {
    // Whatever its result (even -ECANCELED when the thread that armed it
    // has exited), the eventfd was signalled: arm the next read.
    wake_armed_ = false;
    arm_wake();
  } else if (cqe.user_data != cancel_tag) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): user_data carries the address
    on_operation_cqe(*reinterpret_cast<operation*>(cqe.user_data), cqe.res, out);
  }
}

void uring_backend::arm_wake() noexcept {
  unsigned position = 0;
  wake_armed_ = ring_.push(
      [&](io_uring_sqe* sqe) {
        io_uring_prep_read(sqe, wakefd_, &wake_sink, sizeof(wake_sink), 0);
        io_uring_sqe_set_data64(sqe, wake_tag);
      },
      position);
}

void uring_backend::reap(int timeout_ms, completion_batch& out) noexcept {
  if (!wake_armed_) arm_wake();
  ring_.submit_and_wait(timeout_ms);
  uring_cqe cqes[64];
  for (int round = 0; round < 8; ++round) {
    const unsigned n = ring_.reap(cqes, 64);
    for (unsigned i = 0; i < n; ++i) dispatch(cqes[i], out);
    // Whatever these completions set off (a socket's next operation, the
    // rest of a send, the wake read) goes to the kernel in one enter; what
    // completes at once is taken in this same poll.
    if (!ring_.submit_pending()) break;
  }
}

// The CQ stays ours until the engine has queued `out` (poll_delivered).
void uring_backend::poll_events(int timeout_ms, completion_batch& out) noexcept {
  acquire_cq_to_poll();
  reap(timeout_ms, out);
}

void uring_backend::interrupt() noexcept {
  const std::uint64_t one = 1;
  ssize_t n;
  do n = ::write(wakefd_, &one, sizeof(one));
  while (n < 0 && errno == EINTR);
}

void uring_backend::acquire_cq_to_poll() noexcept {
  std::unique_lock lock(cq_lock_);
  cq_free_.wait(lock, [&] { return !cq_busy_ && !drain_waiting_; });
  cq_busy_ = true;
}

void uring_backend::acquire_cq_to_drain() noexcept {
  std::unique_lock lock(cq_lock_);
  drain_waiting_ = true;  // no poll starts meanwhile
  while (cq_busy_) {
    lock.unlock();
    interrupt();  // the poller may be blocked in the kernel
    lock.lock();
    cq_free_.wait_for(lock, std::chrono::milliseconds(10), [&] { return !cq_busy_; });
  }
  cq_busy_ = true;
  drain_waiting_ = false;
}

void uring_backend::release_cq() noexcept {
  {
    std::lock_guard lock(cq_lock_);
    cq_busy_ = false;
  }
  cq_free_.notify_all();
}

// Reaps until no operation is left in the kernel, delivering what the CQEs
// produce. close() calls it before engine.close(), after which nobody polls.
void uring_backend::drain() noexcept {
  acquire_cq_to_drain();
  {
    completion_batch out(engine_);
    while (in_kernel_ops_.load(std::memory_order_acquire) != 0) reap(100, out);
  }
  release_cq();
}

// ---- the port ---------------------------------------------------------------------

void uring_backend::close() noexcept {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  unsigned position = 0;
  bool submit = false;
  {
    // Operations started before `closed_` was set hold their socket's lock
    // while starting; taking each lock in turn lets them finish first.
    std::lock_guard registry(registry_lock_);
    for (uring_socket* s = registered_; s != nullptr; s = s->next_registered) {
      std::lock_guard lock(s->lock);
      request_cancel_all(*s, s->reads, nullptr, position, submit);
      request_cancel_all(*s, s->writes, nullptr, position, submit);
    }
  }
  if (submit) ring_.submit_through(position);
  // The cancellations complete asynchronously: collect every one of them
  // (and of closed handles) into the queue before the engine closes, so
  // nothing is lost (contract item 11).
  drain();
  engine_.close();
}

}  // namespace

std::error_code create_uring_backend(unsigned concurrency, port_backend*& out) {
  auto* backend = new (std::nothrow) uring_backend(concurrency);
  if (backend == nullptr) return native_error(ENOMEM);
  if (std::error_code ec = backend->init()) {
    backend->release();
    return ec;
  }
  out = backend;
  return {};
}

}  // namespace proact::detail
