#include "linux/epoll_backend.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <new>

#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "linux/file_pool.hpp"
#include "linux/linux_backend.hpp"
#include "linux/linux_handle.hpp"
#include "linux/nonblocking_io.hpp"
#include "proact/error.hpp"

namespace proact::detail {
namespace {

// Per-operation state, kept inside the operation (no allocation).
struct epoll_op {
  linux_op queued;  // first: the shared layer's view
  // connect: how many polls had begun when connect() returned (see
  // start_connect and try_io).
  std::uint64_t polls_before;
};

epoll_op& state_of(operation& op) noexcept {
  return op_access::backend<epoll_op>(op);
}

struct epoll_handle final : linux_handle {
  using linux_handle::linux_handle;

  // The handle's lock also guards every syscall on fd.
  bool connect_started = false;  // connect() said EINPROGRESS since the last disconnect
  // False once an input attempt left nothing to take (try_recv_noting_drain,
  // an accept that would block); true again with the next readable edge.
  // While false a start does not try its recv or accept: it could only
  // fail, and the edge that ends the wait is on its way.
  bool input_may_be_ready = true;
  bool recv_filled_last = false;  // so the next recv asks for the bytes left
  bool end_reported = false;      // a poll saw the peer's end or an error
  pooled_file file;               // files only: their I/O runs on the file pool
};

std::error_code last_error() noexcept {
  return native_error(errno);
}

class epoll_backend final : public linux_backend {
 public:
  explicit epoll_backend(unsigned concurrency) noexcept
      : linux_backend(concurrency, sizeof(epoll_handle)),
        files_(engine_, std::clamp(processor_count(), 2u, 4u)) {}

  ~epoll_backend() override {
    free_released(true);
    if (wakefd_ >= 0) ::close(wakefd_);
    if (epfd_ >= 0) ::close(epfd_);
  }

  std::error_code init() noexcept;

  backend_kind kind() const noexcept override { return backend_kind::epoll; }
  void close() noexcept override;
  std::error_code associate(native_handle_type fd, handle_kind kind, address_family family,
                            std::uintptr_t key, io_handle*& out) override;
  std::error_code close_handle(io_handle& h) override;
  void release_handle(io_handle& h) noexcept override;
  std::error_code start(io_handle& h, operation& op, const endpoint* remote) override;
  std::error_code cancel(io_handle& h, operation* op) override;

 private:
  // All below run with the handle's lock held.
  std::error_code start_connect(epoll_handle& s, operation& op, const endpoint& remote);
  io_status try_io(epoll_handle& s, operation& op, std::uint64_t poll, io_result& r) noexcept;
  io_status try_disconnect(epoll_handle& s, operation& op, io_result& r) noexcept;
  void run_queue(epoll_handle& s, op_queue& q, std::uint64_t poll, completion_batch& out) noexcept;
  void run_queues(epoll_handle& s, bool input, bool output, std::uint64_t poll,
                  completion_batch& out) noexcept;
  void catch_up_input(epoll_handle& s, completion_batch& out) noexcept;
  void pooled_turn_after_cancel(epoll_handle& s, completion_batch& out) noexcept;
  std::size_t abort_queue(op_queue& q, completion_batch& out) noexcept;
  std::size_t abort_all(epoll_handle& s, completion_batch& out) noexcept;
  void enqueue(op_queue& q, operation& op) noexcept {
    q.push(op);
    operation_pending();
  }

  void free_released(bool final) noexcept;

  // event_source: epoll_wait, and the eventfd that interrupts it.
  void poll_events(int timeout_ms, completion_batch& out) noexcept override;
  void interrupt() noexcept override { signal_eventfd(wakefd_); }

  int epfd_ = -1;
  int wakefd_ = -1;
  file_pool files_;
  std::atomic<std::uint64_t> polls_{0};  // epoll_wait calls begun (see start_connect)

  // Closed and released handles, linked through next_registered, to free
  // when no poll runs (under the registry lock).
  linux_handle* released_ = nullptr;
  std::atomic<bool> has_released_{false};
};

std::error_code epoll_backend::init() noexcept {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return last_error();
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd_ < 0) return last_error();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = nullptr;  // the interrupter
  return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) == 0 ? std::error_code{} : last_error();
}

// ---- handles -----------------------------------------------------------------

std::error_code epoll_backend::associate(native_handle_type fd, handle_kind kind,
                                         address_family family, std::uintptr_t key,
                                         io_handle*& out) {
  return add_handle<epoll_handle>(fd, kind, family, key, out, [&](epoll_handle& s) {
    s.file.fd = fd;
    // Sockets are registered once, edge-triggered: no epoll_ctl per
    // operation. Regular files cannot be polled; the file pool serves them.
    if (kind == handle_kind::file) return std::error_code{};
    if (kind == handle_kind::tcp_stream) report_bytes_left(fd);  // see input_may_be_ready
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &s;
    return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0 ? std::error_code{} : last_error();
  });
}

std::error_code epoll_backend::close_handle(io_handle& h) {
  auto& s = static_cast<epoll_handle&>(h);
  {
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    s.open.store(false, std::memory_order_release);
    completion_batch aborted_ops(engine_);
    abort_all(s, aborted_ops);
    if (s.is_file()) {
      files_.close(s.file);  // after the jobs already running
    } else {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
      (void)sys::close(s.fd);
    }
    // Delivered before the lock drops, so no later completion overtakes them.
    aborted_ops.flush();
  }
  registry_.remove(s);
  return {};
}

void epoll_backend::release_handle(io_handle& h) noexcept {
  auto& s = static_cast<epoll_handle&>(h);
  if (s.open.load(std::memory_order_acquire)) (void)close_handle(s);
  {
    // A poll in progress may still hold this handle's pointer from
    // epoll_wait: free it at the start of the next poll, or with the backend.
    std::lock_guard registry(registry_.lock());
    s.next_registered = released_;
    released_ = &s;
    has_released_.store(true, std::memory_order_release);
  }
  release();  // may destroy *this
}

void epoll_backend::free_released(bool final) noexcept {
  if (!has_released_.load(std::memory_order_acquire)) return;  // no lock per poll
  linux_handle* list = nullptr;
  {
    std::lock_guard registry(registry_.lock());
    list = released_;
    released_ = nullptr;
    has_released_.store(false, std::memory_order_relaxed);
  }
  linux_handle* keep = nullptr;  // files whose last job still runs
  std::lock_guard registry(registry_.lock());
  while (list != nullptr) {
    auto* s = static_cast<epoll_handle*>(list);
    list = s->next_registered;
    if (!final && s->is_file() && files_.busy(s->file)) {
      s->next_registered = keep;
      keep = s;
    } else {
      s->~epoll_handle();
      registry_.give_storage_locked(s);
    }
  }
  if (keep != nullptr) {
    linux_handle* last = keep;
    while (last->next_registered != nullptr) last = last->next_registered;
    last->next_registered = released_;
    released_ = keep;
    has_released_.store(true, std::memory_order_relaxed);
  }
}

// ---- operations ----------------------------------------------------------------

std::error_code epoll_backend::start(io_handle& h, operation& op, const endpoint* remote) {
  auto& s = static_cast<epoll_handle&>(h);
  const op_kind kind = op_access::kind(op);

  std::lock_guard lock(s.lock);
  if (std::error_code ec = start_refusal(s, kind, closed())) return ec;

  if (s.is_file()) {
    // Speculative, as for sockets: a read served by the page cache needs no
    // pool thread (nor its two thread switches).
    io_result r;
    if (kind == op_kind::read_at && file_pool::read_if_cached(s.file, op, r.bytes))
      return finish_at_start(s, op, r);
    files_.submit(s.file, op);
    return {};
  }
  epoll_op& st = op_access::construct_backend<epoll_op>(op);
  st.queued = linux_op{nullptr, 0, false, 0};
  st.polls_before = 0;
  if (kind == op_kind::connect) return start_connect(s, op, *remote);

  op_queue& q = s.queue_for(kind);
  io_result r;
  if (ends_at_start(s, op, r)) return finish_at_start(s, op, r);
  // Only when nothing is queued ahead (per-socket order): an outcome the
  // connection's state decides, or a speculative attempt. A handle that
  // skips completions on success always tries: data already there
  // completes such a recv in its start call, as on Windows.
  if (q.empty() && (decided_without_trying(s, op, r) || pool_empty_at_turn(op, r) ||
                    ((&q != &s.input || s.input_may_be_ready || s.skip_on_success) &&
                     try_io(s, op, 0, r) == io_status::done)))
    return finish_at_start(s, op, r);
  enqueue(q, op);
  return {};
}

std::error_code epoll_backend::start_connect(epoll_handle& s, operation& op,
                                             const endpoint& remote) {
  // Linux reports a finished non-blocking connect as success on the next
  // connect() call; a connected socket must be refused, as ConnectEx does.
  // Only a socket whose connect() said EINPROGRESS can be in that state (a
  // connected one gets EISCONN from connect() itself), so only such a
  // socket needs the check.
  if (s.connect_started) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0)
      return native_error(EISCONN);
  }
  s.end_reported = false;  // a new connection: what was reported of the last one is past
  io_result r;
  int e = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    e = ::connect(s.fd, static_cast<const sockaddr*>(remote.data()),
                  static_cast<socklen_t>(remote.size())) == 0
            ? 0
            : errno;
    // A connect that failed asynchronously (refused) leaves the socket
    // reporting ECONNABORTED once to the next connect(): try again, as the
    // socket is reusable on every other backend.
    if (e != ECONNABORTED || !s.connect_started) break;
    s.connect_started = false;
  }
  switch (e) {
    case 0:
      break;
    case EINPROGRESS:
    case EINTR:  // the connection continues asynchronously
      s.connect_started = true;
      s.connection.connect_started();
      // Readiness that epoll collects from now on reflects the connect in
      // progress; the fence orders the connect's kernel state before the
      // load (a poll's increment of polls_ is ordered before its
      // epoll_wait the same way).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      state_of(op).polls_before = polls_.load(std::memory_order_relaxed);
      enqueue(s.output, op);
      return {};
    case EBADF:
    case ENOTSOCK:
    case EAFNOSUPPORT:
    case EISCONN:
    case EALREADY:
    case EINVAL:
      return native_error(e);  // refused at start, as ConnectEx does
    default:
      r.error = native_error(e);  // e.g. ECONNREFUSED: a completion
  }
  return finish_at_start(s, op, r);
}

io_status epoll_backend::try_io(epoll_handle& s, operation& op, std::uint64_t poll,
                                io_result& r) noexcept {
  switch (op_access::kind(op)) {
    case op_kind::connect:
      // An unconnected socket reports EPOLLOUT|EPOLLHUP: readiness that
      // epoll collected before connect() returned may predate the connect,
      // and SO_ERROR alone cannot tell. Poll number `poll` began after
      // connect() returned if the connect saw fewer polls begun.
      return try_connect_result(s.fd, state_of(op).polls_before < poll, r);
    case op_kind::disconnect:
      return try_disconnect(s, op, r);
    case op_kind::recv: {
      input_probe probe{.ask_bytes_left = s.recv_filled_last, .end_reported = s.end_reported};
      const io_status status = pool_of(op) != nullptr ? try_recv_pooled(s.fd, op, r, probe)
                                                      : try_recv_noting_drain(s.fd, op, r, probe);
      if (probe.drained) s.input_may_be_ready = false;
      s.recv_filled_last = probe.ask_bytes_left;
      return status;
    }
    case op_kind::accept: {
      const io_status status = try_transfer(s, op, r);
      if (status == io_status::would_block) s.input_may_be_ready = false;
      return status;
    }
    default:
      return try_transfer(s, op, r);
  }
}

io_status epoll_backend::try_disconnect(epoll_handle& s, operation& op, io_result& r) noexcept {
  const io_status status = disconnect_step(s, op, r, [&] {
    completion_batch aborted_recvs(engine_);
    catch_up_input(s, aborted_recvs);
    abort_queue(s.input, aborted_recvs);
  });
  if (status == io_status::done) s.connect_started = false;
  return status;
}

void epoll_backend::run_queue(epoll_handle& s, op_queue& q, std::uint64_t poll,
                              completion_batch& out) noexcept {
  bool turn = false;  // the operation at the front has just become the active one
  while (operation* op = q.front()) {
    io_result r;
    if (!decided_without_trying(s, *op, r) && !(turn && pool_empty_at_turn(*op, r)) &&
        ((&q == &s.input && !s.input_may_be_ready) ||
         try_io(s, *op, poll, r) == io_status::would_block))
      break;
    q.pop();
    turn = true;
    operation_done();
    settle(s, *op, r);
    out.push(completion_for(*op, r.bytes, r.error));
  }
  if (&q == &s.output) shutdown_if_output_done(s);
}

// A failure met by one direction ends what waits in the other one too.
void epoll_backend::run_queues(epoll_handle& s, bool input, bool output, std::uint64_t poll,
                               completion_batch& out) noexcept {
  const bool failed_before = s.connection.failed();
  if (input) run_queue(s, s.input, poll, out);
  if (output) run_queue(s, s.output, poll, out);
  if (!failed_before && s.connection.failed()) {
    if (!input) run_queue(s, s.input, poll, out);
    if (!output) run_queue(s, s.output, poll, out);
  }
}

// Before pending input is aborted (cancel, close, disconnect): a recv or
// accept whose start did not try (input_may_be_ready was false) may have
// data waiting that no poll has reported yet. On Windows it would have
// completed with that data, so it gets its attempt now.
void epoll_backend::catch_up_input(epoll_handle& s, completion_batch& out) noexcept {
  if (s.input_may_be_ready || s.input.empty()) return;
  s.input_may_be_ready = true;
  run_queue(s, s.input, 0, out);
}

// The recv at the head of the input queue was cancelled: the pooled recvs
// whose turn comes now with their pool empty end (run_queue's rule; the
// recvs behind them wait for readiness as before).
void epoll_backend::pooled_turn_after_cancel(epoll_handle& s, completion_batch& out) noexcept {
  while (operation* next = s.input.front()) {
    io_result r;
    if (!pool_empty_at_turn(*next, r)) return;
    s.input.pop();
    operation_done();
    settle(s, *next, r);
    out.push(completion_for(*next, r.bytes, r.error));
  }
}

std::size_t epoll_backend::abort_queue(op_queue& q, completion_batch& out) noexcept {
  std::size_t n = 0;
  while (operation* op = q.pop()) {
    operation_done();
    out.push(completion_for(*op, linux_state_of(*op).done, aborted()));
    ++n;
  }
  return n;
}

std::size_t epoll_backend::abort_all(epoll_handle& s, completion_batch& out) noexcept {
  if (s.is_file()) return files_.cancel(s.file, nullptr, out);
  catch_up_input(s, out);
  const std::size_t n = abort_queue(s.input, out) + abort_queue(s.output, out);
  s.draining = false;
  s.connection.connect_ended();
  shutdown_if_output_done(s);
  return n;
}

std::error_code epoll_backend::cancel(io_handle& h, operation* op) {
  auto& s = static_cast<epoll_handle&>(h);
  std::lock_guard lock(s.lock);
  completion_batch aborted_ops(engine_);
  if (op == nullptr) {
    if (abort_all(s, aborted_ops) == 0) return make_error_code(error::not_found);
  } else if (s.is_file()) {
    if (files_.cancel(s.file, op, aborted_ops) == 0) return make_error_code(error::not_found);
  } else {
    if (s.input.contains(*op)) catch_up_input(s, aborted_ops);
    const bool input_head = s.input.front() == op;
    if (!s.input.remove(*op) && !s.output.remove(*op)) return make_error_code(error::not_found);
    operation_done();
    note_ended(s, op_access::kind(*op));
    aborted_ops.push(completion_for(*op, linux_state_of(*op).done, aborted()));
    if (input_head) pooled_turn_after_cancel(s, aborted_ops);
    shutdown_if_output_done(s);
  }
  aborted_ops.flush();
  return {};
}

// ---- the port --------------------------------------------------------------------

void epoll_backend::close() noexcept {
  if (!mark_closed()) return;
  for_each_open_handle<epoll_handle>([&](epoll_handle& s) {
    completion_batch aborted_ops(engine_);
    abort_all(s, aborted_ops);
    aborted_ops.flush();
  });
  {
    // File jobs already running complete before the port reports closed.
    completion_batch rest(engine_);
    files_.drain(rest);
  }
  engine_.close();
}

void epoll_backend::poll_events(int timeout_ms, completion_batch& out) noexcept {
  // Only one thread polls at a time, and no event from an earlier poll is
  // still being handled: handles released since can be freed now.
  free_released(false);

  // Numbers this poll; the RMW and the fence order it before what
  // epoll_wait reads of the sockets' state (see start_connect).
  const std::uint64_t poll = polls_.fetch_add(1, std::memory_order_seq_cst) + 1;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  epoll_event events[128];
  int n;
  do n = ::epoll_wait(epfd_, events, 128, timeout_ms);
  while (n < 0 && errno == EINTR && timeout_ms < 0);
  for (int i = 0; i < n; ++i) {
    auto* s = static_cast<epoll_handle*>(events[i].data.ptr);
    if (s == nullptr) {
      // One read resets an eventfd's counter (no EFD_SEMAPHORE); a later
      // write raises a new edge.
      std::uint64_t value;
      ssize_t got;
      do got = ::read(wakefd_, &value, sizeof(value));
      while (got < 0 && errno == EINTR);
      continue;
    }
    const std::uint32_t ev = events[i].events;
    const bool readable = (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0;
    const bool writable = (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0;
    std::lock_guard lock(s->lock);
    if (!s->open.load(std::memory_order_relaxed)) continue;
    if (readable) s->input_may_be_ready = true;
    // Not a bare EPOLLHUP: a TCP socket that is not connected yet reports it.
    if ((ev & (EPOLLRDHUP | EPOLLERR)) != 0) s->end_reported = true;
    // A draining disconnect sits in the output queue but waits for input.
    run_queues(*s, readable, writable || (readable && s->draining), poll, out);
    // Delivered under the handle's lock: a speculative completion of a later
    // operation on this socket cannot overtake these in the port queue.
    out.flush();
  }
}

}  // namespace

std::error_code create_epoll_backend(unsigned concurrency, port_backend*& out) {
  return create_linux_backend<epoll_backend>(concurrency, out);
}

}  // namespace proact::detail
