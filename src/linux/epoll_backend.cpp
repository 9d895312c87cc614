#include "linux/epoll_backend.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>

#include "common/completion_engine.hpp"
#include "common/handle_access.hpp"
#include "common/op_access.hpp"
#include "common/sys.hpp"
#include "proact/error.hpp"
#include "proact/socket.hpp"

namespace proact::detail {
namespace {

// Per-operation state, kept inside the operation (no allocation).
struct epoll_op {
  operation* next;   // link in its socket's queue
  std::size_t done;  // bytes already sent (a stream send completes whole)
};

epoll_op& state_of(operation& op) noexcept {
  return op_access::backend<epoll_op>(op);
}

// FIFO of operations waiting for readiness on one socket.
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
  bool remove(operation& op) noexcept {
    operation* prev = nullptr;
    for (operation* it = head_; it != nullptr; prev = it, it = state_of(*it).next) {
      if (it != &op) continue;
      operation* next = state_of(op).next;
      if (prev != nullptr)
        state_of(*prev).next = next;
      else
        head_ = next;
      if (tail_ == &op) tail_ = prev;
      return true;
    }
    return false;
  }

 private:
  operation* head_ = nullptr;
  operation* tail_ = nullptr;
};

struct epoll_socket final : io_handle {
  using io_handle::io_handle;

  std::mutex lock;  // guards everything below and every syscall on fd
  std::atomic<bool> open{true};
  op_queue reads;   // accept, recv
  op_queue writes;  // connect, send
  // The port's list of associated sockets (under the registry lock), then the
  // list of released sockets waiting to be freed.
  epoll_socket* prev_registered = nullptr;
  epoll_socket* next_registered = nullptr;
  bool registered = false;
};

enum class io_status { done, would_block };

std::error_code last_error() noexcept {
  return native_error(errno);
}
std::error_code aborted() noexcept {
  return native_error(ECANCELED);
}

std::size_t total_size(const buffer* buffers, std::size_t count) noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += buffers[i].size;
  return total;
}

// proact::buffer and const_buffer are laid out like iovec.
static_assert(sizeof(buffer) == sizeof(iovec) && sizeof(const_buffer) == sizeof(iovec));
static_assert(offsetof(buffer, data) == offsetof(iovec, iov_base));
static_assert(offsetof(buffer, size) == offsetof(iovec, iov_len));

class epoll_backend final : public port_backend, private event_source {
 public:
  epoll_backend(int epfd, int wakefd, unsigned concurrency) noexcept
      : epfd_(epfd), wakefd_(wakefd), engine_(*this, *this, concurrency) {}

  ~epoll_backend() override {
    free_released();
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

  // All take the socket's lock held.
  io_status try_io(epoll_socket& s, operation& op, completion& result) noexcept;
  io_status try_recv(epoll_socket& s, operation& op, completion& result) noexcept;
  io_status try_send(epoll_socket& s, operation& op, completion& result) noexcept;
  io_status try_accept(epoll_socket& s, operation& op, completion& result) noexcept;
  io_status try_connect_result(epoll_socket& s, operation& op, completion& result) noexcept;
  void run_queue(epoll_socket& s, op_queue& q, completion_batch& out) noexcept;
  std::size_t abort_queue(op_queue& q, completion_batch& out) noexcept;
  void enqueue(op_queue& q, operation& op) noexcept {
    q.push(op);
    pending_io_.fetch_add(1, std::memory_order_relaxed);
  }

  void unregister(epoll_socket& s) noexcept;
  void free_released() noexcept;

  const int epfd_;
  const int wakefd_;
  completion_engine engine_;
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> pending_io_{0};

  std::mutex registry_lock_;
  epoll_socket* registered_ = nullptr;  // associated, open sockets
  epoll_socket* released_ = nullptr;    // closed and released, to free when no poll runs
  std::atomic<bool> has_released_{false};
};

completion completion_for(const operation& op, std::size_t bytes, std::error_code ec) noexcept {
  return completion{op_access::key(op), const_cast<operation*>(&op), bytes, ec};
}

// ---- handles -----------------------------------------------------------------

std::error_code epoll_backend::associate(native_handle_type fd, handle_kind kind,
                                         address_family family, std::uintptr_t key,
                                         io_handle*& out) {
  auto* s = new (std::nothrow) epoll_socket(*this, fd, kind, key, family);
  if (s == nullptr) return native_error(ENOMEM);
  std::lock_guard registry(registry_lock_);
  if (closed_.load(std::memory_order_acquire)) {
    delete s;
    return make_error_code(error::port_closed);
  }
  // Registered once, edge-triggered: no epoll_ctl per operation.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = s;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const std::error_code ec = last_error();
    delete s;
    return ec;
  }
  s->next_registered = registered_;
  if (registered_ != nullptr) registered_->prev_registered = s;
  registered_ = s;
  s->registered = true;
  add_ref();  // the socket keeps the backend alive
  out = s;
  return {};
}

void epoll_backend::unregister(epoll_socket& s) noexcept {
  std::lock_guard registry(registry_lock_);
  if (!s.registered) return;
  if (s.prev_registered != nullptr) s.prev_registered->next_registered = s.next_registered;
  if (s.next_registered != nullptr) s.next_registered->prev_registered = s.prev_registered;
  if (registered_ == &s) registered_ = s.next_registered;
  s.prev_registered = s.next_registered = nullptr;
  s.registered = false;
}

std::error_code epoll_backend::close_handle(io_handle& h) {
  auto& s = static_cast<epoll_socket&>(h);
  {
    std::lock_guard lock(s.lock);
    if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
    s.open.store(false, std::memory_order_release);
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
    (void)sys::close(s.fd);
    completion_batch aborted_ops(engine_);
    abort_queue(s.reads, aborted_ops);
    abort_queue(s.writes, aborted_ops);
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

void epoll_backend::free_released() noexcept {
  if (!has_released_.load(std::memory_order_acquire)) return;  // no lock per poll
  epoll_socket* list = nullptr;
  {
    std::lock_guard registry(registry_lock_);
    list = released_;
    released_ = nullptr;
    has_released_.store(false, std::memory_order_relaxed);
  }
  while (list != nullptr) {
    epoll_socket* next = list->next_registered;
    delete list;
    list = next;
  }
}

// ---- operations ----------------------------------------------------------------

std::error_code epoll_backend::start(io_handle& h, operation& op, const endpoint* remote) {
  auto& s = static_cast<epoll_socket&>(h);
  epoll_op& st = op_access::construct_backend<epoll_op>(op);
  st.next = nullptr;
  st.done = 0;
  const op_kind kind = op_access::kind(op);

  std::lock_guard lock(s.lock);
  if (!s.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
  if (closed_.load(std::memory_order_acquire)) return make_error_code(error::port_closed);

  completion result;
  if (kind == op_kind::connect) {
    if (!s.writes.empty()) return make_error_code(error::operation_in_progress);
    if (::connect(s.fd, static_cast<const sockaddr*>(remote->data()),
                  static_cast<socklen_t>(remote->size())) == 0) {
      result = completion_for(op, 0, {});
    } else {
      const int e = errno;
      switch (e) {
        case EINPROGRESS:
        case EINTR:  // the connection continues asynchronously
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
          result = completion_for(op, 0, native_error(e));  // e.g. ECONNREFUSED
      }
    }
    engine_.deliver(std::span<const completion>(&result, 1));
    return {};
  }

  op_queue& q = (kind == op_kind::recv || kind == op_kind::accept) ? s.reads : s.writes;
  // Speculative attempt: only when nothing queued ahead (per-socket order).
  if (q.empty() && try_io(s, op, result) == io_status::done) {
    // Still delivered through the port, never inline (contract item 2).
    engine_.deliver(std::span<const completion>(&result, 1));
    return {};
  }
  enqueue(q, op);
  return {};
}

io_status epoll_backend::try_io(epoll_socket& s, operation& op, completion& result) noexcept {
  switch (op_access::kind(op)) {
    case op_kind::recv:
      return try_recv(s, op, result);
    case op_kind::send:
      return try_send(s, op, result);
    case op_kind::accept:
      return try_accept(s, op, result);
    case op_kind::connect:
      return try_connect_result(s, op, result);
    default:
      result = completion_for(op, 0, make_error_code(error::invalid_argument));
  }
  return io_status::done;
}

io_status epoll_backend::try_recv(epoll_socket& s, operation& op, completion& result) noexcept {
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  ssize_t n;
  if (total_size(bufs, count) == 0) {
    // Zero-byte recv: completes when data is readable, consuming nothing.
    char probe;
    do n = ::recv(s.fd, &probe, 1, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n > 0)
      n = 0;
    else if (n == 0) {
      result = completion_for(op, 0, make_error_code(error::eof));
      return io_status::done;
    }
  } else if (count == 1) {
    do n = ::recv(s.fd, bufs[0].data, bufs[0].size, 0);
    while (n < 0 && errno == EINTR);
  } else {
    do n = ::readv(s.fd, reinterpret_cast<const iovec*>(bufs), static_cast<int>(count));
    while (n < 0 && errno == EINTR);
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return io_status::would_block;
    result = completion_for(op, 0, last_error());
  } else if (n == 0 && total_size(bufs, count) != 0) {
    result = completion_for(op, 0, make_error_code(error::eof));  // orderly shutdown
  } else {
    result = completion_for(op, static_cast<std::size_t>(n), {});
  }
  return io_status::done;
}

io_status epoll_backend::try_send(epoll_socket& s, operation& op, completion& result) noexcept {
  epoll_op& st = state_of(op);
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  const std::size_t total = total_size(bufs, count);
  // Loop over partial writes: a stream send completes only when whole.
  while (st.done < total) {
    // The part not yet sent, as iovecs (the caller's array stays untouched).
    iovec iov[max_buffers];
    int n_iov = 0;
    std::size_t skip = st.done;
    for (std::size_t i = 0; i < count; ++i) {
      if (skip >= bufs[i].size) {
        skip -= bufs[i].size;
        continue;
      }
      iov[n_iov].iov_base = static_cast<char*>(bufs[i].data) + skip;
      iov[n_iov].iov_len = bufs[i].size - skip;
      skip = 0;
      ++n_iov;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(n_iov);
    const ssize_t n = ::sendmsg(s.fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return io_status::would_block;
      result = completion_for(op, st.done, last_error());  // reports what went
      return io_status::done;
    }
    st.done += static_cast<std::size_t>(n);
  }
  result = completion_for(op, st.done, {});
  return io_status::done;
}

io_status epoll_backend::try_accept(epoll_socket& s, operation& op, completion& result) noexcept {
  endpoint peer_address;
  for (;;) {
    socklen_t len = static_cast<socklen_t>(endpoint::capacity());
    const int fd = ::accept4(s.fd, static_cast<sockaddr*>(peer_address.data()), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      peer_address.resize(len);
      auto* peer = static_cast<tcp_socket*>(op_access::target(op));
      handle_access::set_fd(*peer, fd, s.family, false);
      if (endpoint* out = op_access::address(op)) *out = peer_address;
      result = completion_for(op, 0, {});
      return io_status::done;
    }
    // A connection reset before we took it is not the listener's failure.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return io_status::would_block;
    result = completion_for(op, 0, last_error());
    return io_status::done;
  }
}

io_status epoll_backend::try_connect_result(epoll_socket& s, operation& op,
                                            completion& result) noexcept {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    // Readiness may predate the connect (an unconnected socket reports
    // EPOLLOUT|EPOLLHUP): only a peer address proves the connection.
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      if (errno == ENOTCONN) return io_status::would_block;
      err = errno;
    }
  }
  if (err == EINPROGRESS || err == EALREADY) return io_status::would_block;
  result = completion_for(op, 0, err == 0 ? std::error_code{} : native_error(err));
  return io_status::done;
}

void epoll_backend::run_queue(epoll_socket& s, op_queue& q, completion_batch& out) noexcept {
  while (operation* op = q.front()) {
    completion result;
    if (try_io(s, *op, result) == io_status::would_block) return;
    q.pop();
    pending_io_.fetch_sub(1, std::memory_order_relaxed);
    out.push(result);
  }
}

std::size_t epoll_backend::abort_queue(op_queue& q, completion_batch& out) noexcept {
  std::size_t n = 0;
  while (operation* op = q.pop()) {
    pending_io_.fetch_sub(1, std::memory_order_relaxed);
    out.push(completion_for(*op, state_of(*op).done, aborted()));
    ++n;
  }
  return n;
}

std::error_code epoll_backend::cancel(io_handle& h, operation* op) {
  auto& s = static_cast<epoll_socket&>(h);
  std::lock_guard lock(s.lock);
  completion_batch aborted_ops(engine_);
  if (op == nullptr) {
    if (abort_queue(s.reads, aborted_ops) + abort_queue(s.writes, aborted_ops) == 0)
      return native_error(ENOENT);
  } else {
    if (!s.reads.remove(*op) && !s.writes.remove(*op)) return native_error(ENOENT);
    pending_io_.fetch_sub(1, std::memory_order_relaxed);
    aborted_ops.push(completion_for(*op, state_of(*op).done, aborted()));
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
    for (epoll_socket* s = registered_; s != nullptr; s = s->next_registered) {
      std::lock_guard lock(s->lock);
      completion_batch aborted_ops(engine_);
      abort_queue(s->reads, aborted_ops);
      abort_queue(s->writes, aborted_ops);
      aborted_ops.flush();
    }
  }
  engine_.close();
}

void epoll_backend::interrupt() noexcept {
  const std::uint64_t one = 1;
  ssize_t n;
  do n = ::write(wakefd_, &one, sizeof(one));
  while (n < 0 && errno == EINTR);
}

void epoll_backend::poll_events(int timeout_ms, completion_batch& out) noexcept {
  // Only one thread polls at a time, and no event from an earlier poll is
  // still being handled: sockets released since can be freed now.
  free_released();

  epoll_event events[128];
  int n;
  do n = ::epoll_wait(epfd_, events, 128, timeout_ms);
  while (n < 0 && errno == EINTR && timeout_ms < 0);
  for (int i = 0; i < n; ++i) {
    auto* s = static_cast<epoll_socket*>(events[i].data.ptr);
    if (s == nullptr) {
      std::uint64_t value;
      while (::read(wakefd_, &value, sizeof(value)) > 0) {
      }
      continue;
    }
    const std::uint32_t ev = events[i].events;
    std::lock_guard lock(s->lock);
    if (!s->open.load(std::memory_order_relaxed)) continue;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) run_queue(*s, s->reads, out);
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) run_queue(*s, s->writes, out);
    // Delivered under the socket's lock: a speculative completion of a later
    // operation on this socket cannot overtake these in the port queue.
    out.flush();
  }
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
