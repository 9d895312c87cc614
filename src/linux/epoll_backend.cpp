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

#include "common/completion_engine.hpp"
#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "linux/file_pool.hpp"
#include "linux/handle_list.hpp"
#include "linux/nonblocking_io.hpp"
#include "linux/op_fifo.hpp"
#include "proact/error.hpp"

namespace proact::detail {
namespace {

// Per-operation state, kept inside the operation (no allocation).
struct epoll_op {
  operation* next;   // link in its socket's queue
  std::size_t done;  // bytes already sent (stream send, send_file)
  // connect: how many polls had begun when connect() returned (see
  // start_connect and try_io).
  std::uint64_t polls_before;
  bool fin_sent;  // disconnect: FIN sent, draining until the peer's
};

epoll_op& state_of(operation& op) noexcept {
  return op_access::backend<epoll_op>(op);
}

// Operations waiting for readiness on one socket, one FIFO per direction.
using op_queue = op_fifo<epoll_op>;

struct epoll_socket final : io_handle {
  using io_handle::io_handle;

  std::mutex lock;  // guards everything below and every syscall on fd
  std::atomic<bool> open{true};
  bool skip_on_success = false;
  bool shutdown_pending = false;  // shutdown_send() waits for queued sends
  bool draining = false;          // a disconnect waits for the peer's FIN
  bool connect_started = false;   // connect() said EINPROGRESS since the last disconnect
  op_queue reads;                 // accept, recv, recv_from
  op_queue writes;                // connect, send, send_to, send_file, disconnect
  pooled_file file;               // files only: their I/O runs on the file pool
  // The port's list of associated handles (under the registry lock), then
  // the list of released ones waiting to be freed.
  epoll_socket* prev_registered = nullptr;
  epoll_socket* next_registered = nullptr;
  bool registered = false;
};

std::error_code last_error() noexcept {
  return native_error(errno);
}
std::error_code aborted() noexcept {
  return native_error(ECANCELED);
}

completion completion_for(const operation& op, const io_result& r) noexcept {
  return completion{op_access::key(op), const_cast<operation*>(&op), r.bytes, r.error};
}

bool is_read(op_kind kind) noexcept {
  return kind == op_kind::recv || kind == op_kind::accept || kind == op_kind::recv_from;
}

class epoll_backend final : public port_backend, private event_source {
 public:
  epoll_backend(int epfd, int wakefd, unsigned concurrency) noexcept
      : epfd_(epfd),
        wakefd_(wakefd),
        engine_(*this, *this, concurrency),
        files_(engine_, std::clamp(processor_count(), 2u, 4u)) {}

  ~epoll_backend() override {
    free_released(true);
    while (spare_ != nullptr) {
      spare_socket* next = spare_->next;
      ::operator delete(spare_);
      spare_ = next;
    }
    ::close(wakefd_);
    ::close(epfd_);
  }

  backend_kind kind() const noexcept override { return backend_kind::epoll; }
  unsigned concurrency() const noexcept override { return engine_.concurrency(); }

  std::error_code associate(native_handle_type fd, handle_kind kind, address_family family,
                            std::uintptr_t key, io_handle*& out) override;
  std::error_code start(io_handle& h, operation& op, const endpoint* remote) override;
  std::error_code cancel(io_handle& h, operation* op) override;
  std::error_code close_handle(io_handle& h) override;
  bool handle_open(const io_handle& h) const noexcept override {
    return static_cast<const epoll_socket&>(h).open.load(std::memory_order_acquire);
  }
  void release_handle(io_handle& h) noexcept override;
  std::error_code shutdown_send(io_handle& h) override;
  std::error_code skip_completion_on_success(io_handle& h) override {
    auto& s = static_cast<epoll_socket&>(h);
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    s.skip_on_success = true;
    return {};
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
    return pending_io_.load(std::memory_order_relaxed) != 0;
  }

  // All below run with the socket's lock held.
  std::error_code start_connect(epoll_socket& s, operation& op, const endpoint& remote,
                                epoll_op& st);
  io_status try_io(epoll_socket& s, operation& op, std::uint64_t poll, io_result& r) noexcept;
  io_status try_disconnect(epoll_socket& s, operation& op, io_result& r) noexcept;
  std::error_code finish_at_start(epoll_socket& s, operation& op, const io_result& r) noexcept;
  void run_queue(epoll_socket& s, op_queue& q, std::uint64_t poll, completion_batch& out) noexcept;
  std::size_t abort_queue(op_queue& q, completion_batch& out) noexcept;
  std::size_t abort_all(epoll_socket& s, completion_batch& out) noexcept;
  void shutdown_if_sends_done(epoll_socket& s) noexcept;
  void enqueue(op_queue& q, operation& op) noexcept {
    q.push(op);
    pending_io_.fetch_add(1, std::memory_order_relaxed);
  }
  void dequeued() noexcept { pending_io_.fetch_sub(1, std::memory_order_relaxed); }

  void unregister(epoll_socket& s) noexcept;
  void free_released(bool final) noexcept;
  // Storage for a per-socket state: a spare one, else new (registry lock held).
  void* take_storage_locked() noexcept;
  // Keeps the storage of a destroyed state as a spare, up to max_spares.
  void give_storage_locked(void* storage) noexcept;

  const int epfd_;
  const int wakefd_;
  completion_engine engine_;
  file_pool files_;
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> pending_io_{0};
  std::atomic<std::uint64_t> polls_{0};  // epoll_wait calls begun (see start_connect)

  std::mutex registry_lock_;
  handle_list<epoll_socket> registered_;  // associated, open handles
  epoll_socket* released_ = nullptr;      // closed and released, to free when no poll runs
  std::atomic<bool> has_released_{false};
  // Storage of freed per-socket states, reused by associate() so that a
  // server accepting connections allocates nothing in steady state.
  struct spare_socket {
    spare_socket* next;
  };
  static constexpr std::size_t max_spares = 256;
  spare_socket* spare_ = nullptr;
  std::size_t spare_count_ = 0;
};

// The backend whose poll_events() runs on this thread, if any (see interrupt()).
thread_local const epoll_backend* polling_backend = nullptr;

// ---- handles -----------------------------------------------------------------

std::error_code epoll_backend::associate(native_handle_type fd, handle_kind kind,
                                         address_family family, std::uintptr_t key,
                                         io_handle*& out) {
  std::lock_guard registry(registry_lock_);
  if (closed_.load(std::memory_order_acquire)) return make_error_code(error::port_closed);
  void* storage = take_storage_locked();
  if (storage == nullptr) return native_error(ENOMEM);
  auto* s = ::new (storage) epoll_socket(*this, fd, kind, key, family);
  s->file.fd = fd;
  // Sockets are registered once, edge-triggered: no epoll_ctl per
  // operation. Regular files cannot be polled; the file pool serves them.
  if (kind != handle_kind::file) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = s;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      const std::error_code ec = last_error();
      s->~epoll_socket();
      give_storage_locked(storage);
      return ec;
    }
  }
  registered_.push(*s);
  add_ref();  // the handle keeps the backend alive
  out = s;
  return {};
}

void* epoll_backend::take_storage_locked() noexcept {
  if (spare_socket* spare = spare_) {
    spare_ = spare->next;
    --spare_count_;
    return spare;
  }
  static_assert(alignof(epoll_socket) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  return ::operator new(sizeof(epoll_socket), std::nothrow);
}

void epoll_backend::give_storage_locked(void* storage) noexcept {
  if (spare_count_ == max_spares) {
    ::operator delete(storage);
    return;
  }
  static_assert(sizeof(spare_socket) <= sizeof(epoll_socket));
  spare_ = ::new (storage) spare_socket{spare_};
  ++spare_count_;
}

void epoll_backend::unregister(epoll_socket& s) noexcept {
  std::lock_guard registry(registry_lock_);
  registered_.remove(s);
}

std::error_code epoll_backend::close_handle(io_handle& h) {
  auto& s = static_cast<epoll_socket&>(h);
  {
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    s.open.store(false, std::memory_order_release);
    completion_batch aborted_ops(engine_);
    abort_all(s, aborted_ops);
    if (s.kind == handle_kind::file) {
      files_.close(s.file);  // after the jobs already running
    } else {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
      (void)sys::close(s.fd);
    }
    // Delivered before the lock drops, so no later completion overtakes them.
    aborted_ops.flush();
  }
  unregister(s);
  return {};
}

void epoll_backend::release_handle(io_handle& h) noexcept {
  auto& s = static_cast<epoll_socket&>(h);
  if (s.open.load(std::memory_order_acquire)) (void)close_handle(s);
  {
    // A poll in progress may still hold this socket's pointer from
    // epoll_wait: free it at the start of the next poll, or with the backend.
    std::lock_guard registry(registry_lock_);
    s.next_registered = released_;
    released_ = &s;
    has_released_.store(true, std::memory_order_release);
  }
  release();  // may destroy *this
}

void epoll_backend::free_released(bool final) noexcept {
  if (!has_released_.load(std::memory_order_acquire)) return;  // no lock per poll
  epoll_socket* list = nullptr;
  {
    std::lock_guard registry(registry_lock_);
    list = released_;
    released_ = nullptr;
    has_released_.store(false, std::memory_order_relaxed);
  }
  epoll_socket* keep = nullptr;  // files whose last job still runs
  spare_socket* freed = nullptr;
  while (list != nullptr) {
    epoll_socket* next = list->next_registered;
    if (!final && list->kind == handle_kind::file && files_.busy(list->file)) {
      list->next_registered = keep;
      keep = list;
    } else {
      list->~epoll_socket();
      freed = ::new (static_cast<void*>(list)) spare_socket{freed};
    }
    list = next;
  }
  if (keep == nullptr && freed == nullptr) return;
  std::lock_guard registry(registry_lock_);
  while (freed != nullptr) {
    spare_socket* next = freed->next;
    give_storage_locked(freed);
    freed = next;
  }
  if (keep != nullptr) {
    epoll_socket* last = keep;
    while (last->next_registered != nullptr) last = last->next_registered;
    last->next_registered = released_;
    released_ = keep;
    has_released_.store(true, std::memory_order_relaxed);
  }
}

std::error_code epoll_backend::shutdown_send(io_handle& h) {
  auto& s = static_cast<epoll_socket&>(h);
  std::lock_guard lock(s.lock);
  if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
  if (s.kind != handle_kind::tcp_stream) return make_error_code(error::invalid_argument);
  if (s.writes.empty()) return sys::shutdown_send(s.fd);
  s.shutdown_pending = true;  // the FIN goes after the queued sends
  return {};
}

void epoll_backend::shutdown_if_sends_done(epoll_socket& s) noexcept {
  if (s.shutdown_pending && s.writes.empty()) {
    s.shutdown_pending = false;
    (void)sys::shutdown_send(s.fd);
  }
}

// ---- operations ----------------------------------------------------------------

std::error_code epoll_backend::start(io_handle& h, operation& op, const endpoint* remote) {
  auto& s = static_cast<epoll_socket&>(h);
  const op_kind kind = op_access::kind(op);

  std::lock_guard lock(s.lock);
  if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
  if (closed_.load(std::memory_order_acquire)) return make_error_code(error::port_closed);

  if (kind == op_kind::read_at || kind == op_kind::write_at) {
    // Speculative, as for sockets: a read served by the page cache needs no
    // pool thread (nor its two thread switches).
    io_result r;
    if (kind == op_kind::read_at && file_pool::read_if_cached(s.file, op, r.bytes))
      return finish_at_start(s, op, r);
    files_.submit(s.file, op);
    return {};
  }
  epoll_op& st = op_access::construct_backend<epoll_op>(op);
  st.next = nullptr;
  st.done = 0;
  st.polls_before = 0;
  st.fin_sent = false;
  if (kind == op_kind::connect) return start_connect(s, op, *remote, st);
  // A disconnect is draining the connection: nothing more to receive.
  if (s.draining && is_read(kind)) return native_error(ENOTCONN);

  op_queue& q = is_read(kind) ? s.reads : s.writes;
  io_result r;
  // Speculative attempt: only when nothing is queued ahead (per-socket order).
  if (q.empty() && try_io(s, op, 0, r) == io_status::done) return finish_at_start(s, op, r);
  enqueue(q, op);
  return {};
}

// An operation that completed during its start call: through the port (item
// 2), or straight back to the caller in skip-completion-on-success mode.
std::error_code epoll_backend::finish_at_start(epoll_socket& s, operation& op,
                                               const io_result& r) noexcept {
  if (s.skip_on_success) {
    op_access::complete_at_start(op, r.bytes, r.error);
    op_access::end(op);
    return {};
  }
  const completion c = completion_for(op, r);
  engine_.deliver(std::span<const completion>(&c, 1));
  return {};
}

std::error_code epoll_backend::start_connect(epoll_socket& s, operation& op, const endpoint& remote,
                                             epoll_op& st) {
  if (!s.writes.empty()) return make_error_code(error::operation_in_progress);
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
  io_result r;
  if (::connect(s.fd, static_cast<const sockaddr*>(remote.data()),
                static_cast<socklen_t>(remote.size())) != 0) {
    const int e = errno;
    switch (e) {
      case EINPROGRESS:
      case EINTR:  // the connection continues asynchronously
        s.connect_started = true;
        // Readiness that epoll collects from now on reflects the connect in
        // progress; the fence orders the connect's kernel state before the
        // load (a poll's increment of polls_ is ordered before its
        // epoll_wait the same way).
        std::atomic_thread_fence(std::memory_order_seq_cst);
        st.polls_before = polls_.load(std::memory_order_relaxed);
        enqueue(s.writes, op);
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
  }
  return finish_at_start(s, op, r);
}

io_status epoll_backend::try_io(epoll_socket& s, operation& op, std::uint64_t poll,
                                io_result& r) noexcept {
  epoll_op& st = state_of(op);
  switch (op_access::kind(op)) {
    case op_kind::recv:
      return try_recv(s.fd, op, r);
    case op_kind::send:
      return try_send(s.fd, op, st.done, r);
    case op_kind::recv_from:
      return try_recv_from(s.fd, op, r);
    case op_kind::send_to:
      return try_send_to(s.fd, op, r);
    case op_kind::accept:
      return try_accept(s.fd, op, s.family, r);
    case op_kind::connect:
      // An unconnected socket reports EPOLLOUT|EPOLLHUP: readiness that
      // epoll collected before connect() returned may predate the connect,
      // and SO_ERROR alone cannot tell. Poll number `poll` began after
      // connect() returned if the connect saw fewer polls begun.
      return try_connect_result(s.fd, st.polls_before < poll, r);
    case op_kind::send_file:
      return try_send_file(s.fd, op, st.done, r);
    case op_kind::disconnect:
      return try_disconnect(s, op, r);
    default:
      r.error = make_error_code(error::invalid_argument);
      return io_status::done;
  }
}

// DisconnectEx semantics: FIN after the sends before it, discard what the
// peer still sends until its FIN, then dissolve the connection so that the
// socket can connect again.
io_status epoll_backend::try_disconnect(epoll_socket& s, operation& op, io_result& r) noexcept {
  epoll_op& st = state_of(op);
  if (!st.fin_sent) {
    if (::shutdown(s.fd, SHUT_WR) != 0) {
      r.error = last_error();  // e.g. not connected
      return io_status::done;
    }
    st.fin_sent = true;
    s.draining = true;
    completion_batch aborted_recvs(engine_);
    abort_queue(s.reads, aborted_recvs);
  }
  if (try_discard_until_eof(s.fd, r) == io_status::would_block) return io_status::would_block;
  s.draining = false;
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  if (::connect(s.fd, &unspecified, sizeof(unspecified)) != 0) {
    if (!r.error) r.error = last_error();
  } else {
    s.connect_started = false;  // the socket is unconnected again
  }
  r.bytes = 0;
  return io_status::done;
}

void epoll_backend::run_queue(epoll_socket& s, op_queue& q, std::uint64_t poll,
                              completion_batch& out) noexcept {
  while (operation* op = q.front()) {
    io_result r;
    if (try_io(s, *op, poll, r) == io_status::would_block) break;
    q.pop();
    dequeued();
    out.push(completion_for(*op, r));
  }
  if (&q == &s.writes) shutdown_if_sends_done(s);
}

std::size_t epoll_backend::abort_queue(op_queue& q, completion_batch& out) noexcept {
  std::size_t n = 0;
  while (operation* op = q.pop()) {
    dequeued();
    out.push(completion{op_access::key(*op), op, state_of(*op).done, aborted()});
    ++n;
  }
  return n;
}

std::size_t epoll_backend::abort_all(epoll_socket& s, completion_batch& out) noexcept {
  if (s.kind == handle_kind::file) return files_.cancel(s.file, nullptr, out);
  const std::size_t n = abort_queue(s.reads, out) + abort_queue(s.writes, out);
  s.draining = false;
  shutdown_if_sends_done(s);
  return n;
}

std::error_code epoll_backend::cancel(io_handle& h, operation* op) {
  auto& s = static_cast<epoll_socket&>(h);
  std::lock_guard lock(s.lock);
  completion_batch aborted_ops(engine_);
  if (op == nullptr) {
    if (abort_all(s, aborted_ops) == 0) return native_error(ENOENT);
  } else if (s.kind == handle_kind::file) {
    if (files_.cancel(s.file, op, aborted_ops) == 0) return native_error(ENOENT);
  } else {
    if (!s.reads.remove(*op) && !s.writes.remove(*op)) return native_error(ENOENT);
    dequeued();
    if (op_access::kind(*op) == op_kind::disconnect) s.draining = false;
    aborted_ops.push(completion{op_access::key(*op), op, state_of(*op).done, aborted()});
    shutdown_if_sends_done(s);
  }
  aborted_ops.flush();
  return {};
}

// ---- the port --------------------------------------------------------------------

void epoll_backend::close() noexcept {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  {
    // Operations started before `closed_` was set hold their socket's lock
    // while starting; taking each lock in turn lets them finish first.
    std::lock_guard registry(registry_lock_);
    for (epoll_socket* s = registered_.front(); s != nullptr; s = s->next_registered) {
      std::lock_guard lock(s->lock);
      completion_batch aborted_ops(engine_);
      abort_all(*s, aborted_ops);
      aborted_ops.flush();
    }
  }
  {
    // File jobs already running complete before the port reports closed.
    completion_batch rest(engine_);
    files_.drain(rest);
  }
  engine_.close();
}

void epoll_backend::interrupt() noexcept {
  // The engine wakes the poller when a completion is queued for it. A
  // completion that poll_events() delivers itself (under the socket's lock)
  // asks to wake the very thread that is running it: that thread is not
  // blocked in epoll_wait and will not block again before it returns, so
  // the eventfd write (and the reads to drain it) would be wasted.
  if (polling_backend == this) return;
  const std::uint64_t one = 1;
  ssize_t n;
  do n = ::write(wakefd_, &one, sizeof(one));
  while (n < 0 && errno == EINTR);
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
  polling_backend = this;  // from here on this thread does not block
  for (int i = 0; i < n; ++i) {
    auto* s = static_cast<epoll_socket*>(events[i].data.ptr);
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
    if (readable) run_queue(*s, s->reads, poll, out);
    // A draining disconnect sits in the send queue but waits for input.
    if (writable || (readable && s->draining)) run_queue(*s, s->writes, poll, out);
    // Delivered under the socket's lock: a speculative completion of a later
    // operation on this socket cannot overtake these in the port queue.
    out.flush();
  }
  polling_backend = nullptr;
}

}  // namespace

std::error_code create_epoll_backend(unsigned concurrency, port_backend*& out) {
  const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return last_error();
  const int wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) {
    const std::error_code ec = last_error();
    ::close(epfd);
    return ec;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = nullptr;  // the interrupter
  if (::epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0) {
    const std::error_code ec = last_error();
    ::close(wakefd);
    ::close(epfd);
    return ec;
  }
  auto* backend = new (std::nothrow) epoll_backend(epfd, wakefd, concurrency);
  if (backend == nullptr) {
    ::close(wakefd);
    ::close(epfd);
    return native_error(ENOMEM);
  }
  out = backend;
  return {};
}

}  // namespace proact::detail
