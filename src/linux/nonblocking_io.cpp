#include "linux/nonblocking_io.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include "common/handle_access.hpp"
#include "common/pool_state.hpp"
#include "proact/error.hpp"
#include "proact/file.hpp"
#include "proact/socket.hpp"

namespace proact::detail {
namespace {

// proact::buffer and const_buffer are laid out like iovec.
static_assert(sizeof(buffer) == sizeof(iovec) && sizeof(const_buffer) == sizeof(iovec));
static_assert(offsetof(buffer, data) == offsetof(iovec, iov_base));
static_assert(offsetof(buffer, size) == offsetof(iovec, iov_len));

bool would_block(int e) noexcept {
  return e == EAGAIN || e == EWOULDBLOCK;
}

io_status fail(io_result& r, int e, std::size_t bytes = 0) noexcept {
  r.bytes = bytes;
  r.error = native_error(e);
  return io_status::done;
}

io_status succeed(io_result& r, std::size_t bytes) noexcept {
  r.bytes = bytes;
  r.error.clear();
  return io_status::done;
}

// sendfile(2) on a connection the peer has reset raises SIGPIPE (it takes no
// MSG_NOSIGNAL). The signal is blocked in this thread around the call and,
// if the call raised it, taken back, so the process never sees it.
class sigpipe_suppressed {
 public:
  sigpipe_suppressed() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    (void)::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  }
  sigpipe_suppressed(const sigpipe_suppressed&) = delete;
  sigpipe_suppressed& operator=(const sigpipe_suppressed&) = delete;
  ~sigpipe_suppressed() { (void)::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

  void take_back_if_raised(const io_result& r) noexcept {
    if (was_pending_ || r.error != native_error(EPIPE)) return;
    const timespec zero{};
    int n;
    do n = ::sigtimedwait(&pipe_, nullptr, &zero);
    while (n < 0 && errno == EINTR);
  }

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

// sendfile(2) until the range went, the socket would block, or the file ended.
io_status send_file_range(int fd, const operation& op, std::size_t& done, io_result& r) noexcept {
  const auto* source = static_cast<const file*>(op_access::target(op));
  const std::size_t count = op_access::buffers(op)[0].size;
  while (done < count) {
    off_t offset = static_cast<off_t>(op_access::offset(op) + done);
    const ssize_t n = ::sendfile(fd, source->native_handle(), &offset, count - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return io_status::would_block;
      return fail(r, errno, done);
    }
    if (n == 0) {  // the file ended before the range did
      r.bytes = done;
      r.error = make_error_code(error::eof);
      return io_status::done;
    }
    done += static_cast<std::size_t>(n);
  }
  return succeed(r, done);
}

}  // namespace

iovec* as_iovec(const operation& op) noexcept {
  return reinterpret_cast<iovec*>(const_cast<buffer*>(op_access::buffers(op)));
}

std::size_t total_size(const operation& op) noexcept {
  const buffer* bufs = op_access::buffers(op);
  std::size_t total = 0;
  for (std::size_t i = 0; i < op_access::buffer_count(op); ++i) total += bufs[i].size;
  return total;
}

io_status try_recv(int fd, const operation& op, io_result& r) noexcept {
  const std::size_t count = op_access::buffer_count(op);
  const bool probe_only = total_size(op) == 0;
  ssize_t n;
  do {
    if (probe_only) {
      char byte;
      n = ::recv(fd, &byte, 1, MSG_PEEK);  // readable? consume nothing
    } else if (count == 1) {
      n = ::recv(fd, as_iovec(op)[0].iov_base, as_iovec(op)[0].iov_len, 0);
    } else {
      n = ::readv(fd, as_iovec(op), static_cast<int>(count));
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0) return would_block(errno) ? io_status::would_block : fail(r, errno);
  if (n == 0) {  // orderly shutdown
    r.bytes = 0;
    r.error = make_error_code(error::eof);
    return io_status::done;
  }
  return succeed(r, probe_only ? 0 : static_cast<std::size_t>(n));
}

io_status try_recv_noting_drain(int fd, const operation& op, io_result& r, bool& drained) noexcept {
  const std::size_t total = total_size(op);
  if (total == 0) {
    const io_status status = try_recv(fd, op, r);
    drained = status == io_status::would_block;
    return status;
  }
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = as_iovec(op);
  msg.msg_iovlen = op_access::buffer_count(op);
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do n = ::recvmsg(fd, &msg, 0);
  while (n < 0 && errno == EINTR);
  drained = false;
  if (n < 0) {
    drained = would_block(errno);
    return drained ? io_status::would_block : fail(r, errno);
  }
  if (n == 0) {  // orderly shutdown
    r.bytes = 0;
    r.error = make_error_code(error::eof);
    return io_status::done;
  }
  drained = static_cast<std::size_t>(n) < total;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
      int left = 0;
      std::memcpy(&left, CMSG_DATA(c), sizeof(left));
      drained = left == 0;
    }
  }
  return succeed(r, static_cast<std::size_t>(n));
}

io_status try_recv_pooled(int fd, operation& op, io_result& r, bool& drained) noexcept {
  drained = false;
  if (!take_pool_buffer(op)) {
    // Nothing to read into: pool_empty only if there is something to read
    // (data or the end of the stream), as a kernel that picks the buffer
    // when data is ready reports it.
    char byte;
    ssize_t n;
    do n = ::recv(fd, &byte, 1, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n < 0 && would_block(errno)) {
      drained = true;
      return io_status::would_block;
    }
    r.bytes = 0;
    r.error = pool_empty();
    return io_status::done;
  }
  const io_status status = try_recv_noting_drain(fd, op, r, drained);
  if (status == io_status::would_block || r.bytes == 0) put_back_pool_buffer(op);
  return status;
}

void report_bytes_left(int fd) noexcept {
  const int on = 1;
  (void)::setsockopt(fd, SOL_TCP, TCP_INQ, &on,
                     sizeof(on));  // Linux 4.18 on; else a short read says it
}

io_status try_send(int fd, const operation& op, std::size_t& done, io_result& r) noexcept {
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  const std::size_t total = total_size(op);
  // Loop over partial writes: a stream send completes only when whole.
  while (done < total) {
    // The part not yet sent, as iovecs (the caller's array stays untouched).
    iovec iov[max_buffers];
    std::size_t n_iov = 0;
    std::size_t skip = done;
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
    ssize_t n;
    if (n_iov == 1) {
      // send(): the kernel skips importing a msghdr and an iovec array.
      n = ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = n_iov;
      n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return io_status::would_block;
      return fail(r, errno, done);  // reports what went
    }
    done += static_cast<std::size_t>(n);
  }
  return succeed(r, done);
}

io_status try_recv_from(int fd, const operation& op, io_result& r) noexcept {
  endpoint* source = op_access::address(op);
  endpoint from;
  socklen_t from_size = static_cast<socklen_t>(endpoint::capacity());
  const std::size_t count = op_access::buffer_count(op);
  const iovec* iov = as_iovec(op);
  ssize_t n;
  bool truncated = false;
  if (count == 1) {
    // recvfrom(), cheaper than recvmsg() in the kernel for one buffer; with
    // MSG_TRUNC it returns the datagram's real length, which says whether
    // it fitted.
    do
      n = ::recvfrom(fd, iov[0].iov_base, iov[0].iov_len, MSG_TRUNC,
                     static_cast<sockaddr*>(from.data()), &from_size);
    while (n < 0 && errno == EINTR);
    if (n > static_cast<ssize_t>(iov[0].iov_len)) {
      n = static_cast<ssize_t>(iov[0].iov_len);
      truncated = true;
    }
  } else {
    msghdr msg{};
    msg.msg_name = from.data();
    msg.msg_namelen = from_size;
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    do n = ::recvmsg(fd, &msg, 0);
    while (n < 0 && errno == EINTR);
    from_size = msg.msg_namelen;
    truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  }
  if (n < 0) return would_block(errno) ? io_status::would_block : fail(r, errno);
  if (source != nullptr) {
    from.resize(from_size);
    *source = from;
  }
  // Truncated: the bytes that fit, and message_size (as Windows reports it).
  if (truncated) return fail(r, EMSGSIZE, static_cast<std::size_t>(n));
  return succeed(r, static_cast<std::size_t>(n));
}

io_status try_send_to(int fd, const operation& op, io_result& r) noexcept {
  const endpoint* remote = op_access::address(op);
  const auto* to = static_cast<const sockaddr*>(remote->data());
  const auto to_size = static_cast<socklen_t>(remote->size());
  const std::size_t count = op_access::buffer_count(op);
  const iovec* iov = as_iovec(op);
  ssize_t n;
  if (count == 1) {
    do n = ::sendto(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL, to, to_size);
    while (n < 0 && errno == EINTR);
  } else {
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr*>(to);
    msg.msg_namelen = to_size;
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
  }
  if (n < 0) return would_block(errno) ? io_status::would_block : fail(r, errno);
  return succeed(r, static_cast<std::size_t>(n));
}

io_status try_accept(int fd, const operation& op, address_family family, io_result& r) noexcept {
  endpoint peer_address;
  for (;;) {
    socklen_t len = static_cast<socklen_t>(endpoint::capacity());
    const int peer = ::accept4(fd, static_cast<sockaddr*>(peer_address.data()), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (peer >= 0) {
      peer_address.resize(len);
      auto* socket = static_cast<tcp_socket*>(op_access::target(op));
      handle_access::set_fd(*socket, peer, family, handle_kind::tcp_stream);
      if (endpoint* out = op_access::address(op)) *out = peer_address;
      return succeed(r, 0);
    }
    // A connection reset before we took it is not the listener's failure.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    return would_block(errno) ? io_status::would_block : fail(r, errno);
  }
}

io_status try_connect_result(int fd, bool state_is_current, io_result& r) noexcept {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0 && !state_is_current) {
    // Readiness may predate the connect (an unconnected socket reports
    // EPOLLOUT|EPOLLHUP): only a peer address proves the connection.
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      if (errno == ENOTCONN) return io_status::would_block;
      err = errno;
    }
  }
  if (err == EINPROGRESS || err == EALREADY) return io_status::would_block;
  return err == 0 ? succeed(r, 0) : fail(r, err);
}

io_status try_send_file(int fd, const operation& op, std::size_t& done, io_result& r) noexcept {
  sigpipe_suppressed no_sigpipe;
  const io_status status = send_file_range(fd, op, done, r);
  if (status == io_status::done) no_sigpipe.take_back_if_raised(r);
  return status;
}

io_status try_discard_until_eof(int fd, io_result& r) noexcept {
  char sink[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, sink, sizeof(sink), 0);
    if (n > 0) continue;
    if (n == 0) return succeed(r, 0);
    if (errno == EINTR) continue;
    return would_block(errno) ? io_status::would_block : fail(r, errno);
  }
}

}  // namespace proact::detail
