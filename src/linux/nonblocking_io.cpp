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
#include <cstdint>
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
// if the call raised it, taken back, so the process never sees it. A thread
// that did not block SIGPIPE has none pending once it is blocked (one would
// have been delivered), so only a thread that blocks it already needs to
// ask whether one is pending from before, and needs no change of mask.
class sigpipe_suppressed {
 public:
  sigpipe_suppressed() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    (void)::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    was_blocked_ = sigismember(&old_, SIGPIPE) == 1;
    if (was_blocked_) {
      sigset_t pending;
      sigemptyset(&pending);
      was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    }
  }
  sigpipe_suppressed(const sigpipe_suppressed&) = delete;
  sigpipe_suppressed& operator=(const sigpipe_suppressed&) = delete;
  ~sigpipe_suppressed() {
    if (!was_blocked_) (void)::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

  void take_back_if_raised(int error) noexcept {
    if (was_pending_ || error != EPIPE) return;
    const timespec zero{};
    int n;
    do n = ::sigtimedwait(&pipe_, nullptr, &zero);
    while (n < 0 && errno == EINTR);
  }

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_blocked_ = false;
  bool was_pending_ = false;
};

enum class range_status { sent, would_block, file_ended, failed };

// sendfile(2) of [offset, offset + count) until it went, the socket would
// block, the file ended or a call failed (errno kept); advances `sent`.
range_status send_range(int fd, int source, std::uint64_t offset, std::size_t count,
                        std::size_t& sent) noexcept {
  sigpipe_suppressed no_sigpipe;
  std::size_t went = 0;
  while (went < count) {
    off_t at = static_cast<off_t>(offset + went);
    const ssize_t n = ::sendfile(fd, source, &at, count - went);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) break;
      const int e = errno;
      no_sigpipe.take_back_if_raised(e);
      sent += went;
      errno = e;
      return range_status::failed;
    }
    if (n == 0) {
      sent += went;
      return range_status::file_ended;
    }
    went += static_cast<std::size_t>(n);
  }
  sent += went;
  return went == count ? range_status::sent : range_status::would_block;
}

// send() of the part of `b` after `from` bytes, advancing `sent`: true once
// all of it went; false with errno set (EAGAIN: it would block).
bool send_part(int fd, const_buffer b, std::size_t from, std::size_t& sent, int flags) noexcept {
  while (from < b.size) {
    const ssize_t n =
        ::send(fd, static_cast<const char*>(b.data) + from, b.size - from, flags | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    from += static_cast<std::size_t>(n);
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// A head sent with MSG_MORE waits in the socket for the range's bytes; when
// none follow (the file ended or failed, and no tail), it must still leave.
// Clearing TCP_CORK pushes what is queued; a cork the application set itself
// is left alone.
void push_held_head(int fd) noexcept {
  int corked = 0;
  socklen_t len = sizeof(corked);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_CORK, &corked, &len) == 0 && corked == 0)
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &corked, sizeof(corked));
}

// A range this small is read and sent with what is left of the head and the
// tail in one sendmsg (MSG_NOSIGNAL): two system calls, where sendfile takes
// a send of the head, sendfile and two changes of the signal mask.
constexpr std::size_t copied_range_limit = std::size_t{16} * 1024;

enum class copied_status { went, would_block, failed };

// The rest of a small range from `range_at`, read with pread(2) and sent
// after the rest of the head and before the tail; advances `done`. `went`:
// the head and the bytes the file had went (what is left of the tail is the
// caller's to send), and `file_shortfall` says what the file lacked.
// `failed`: errno says why.
copied_status send_copied(int fd, const operation& op, const_buffer head, const_buffer tail,
                          std::size_t range_at, std::size_t& done,
                          std::uint32_t& file_shortfall) noexcept {
  char data[copied_range_limit];
  const std::size_t want = op_access::send_file_count(op) - range_at;
  const auto* source = static_cast<const file*>(op_access::target(op));
  ssize_t got;
  do
    got = ::pread(static_cast<int>(source->native_handle()), data, want,
                  static_cast<off_t>(op_access::offset(op) + range_at));
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    const int e = errno;
    if (done > 0 && tail.size == 0) push_held_head(fd);  // a head sent earlier with MSG_MORE
    errno = e;
    return copied_status::failed;
  }
  const auto have = static_cast<std::size_t>(got);  // less than `want`: the file ended
  iovec iov[3];
  std::size_t parts = 0;
  const std::size_t head_left = done < head.size ? head.size - done : 0;
  if (head_left > 0)
    iov[parts++] = {const_cast<char*>(static_cast<const char*>(head.data)) + done, head_left};
  if (have > 0) iov[parts++] = {data, have};
  if (tail.size > 0) iov[parts++] = {const_cast<void*>(tail.data), tail.size};
  if (parts > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = parts;
    ssize_t n;
    do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return would_block(errno) ? copied_status::would_block : copied_status::failed;
    done += static_cast<std::size_t>(n);
    // Short of the file's bytes: the socket is full. They are read again
    // once it has room.
    if (static_cast<std::size_t>(n) < head_left + have) return copied_status::would_block;
  } else if (done > 0) {
    push_held_head(fd);  // nothing follows a head sent earlier with MSG_MORE
  }
  if (have < want) file_shortfall = static_cast<std::uint32_t>(want - have);
  return copied_status::went;
}

// A read of n bytes into buffers of `total`: a short one emptied the queue,
// unless the peer's end waits behind it; a full one cannot tell.
void note_read(input_probe& probe, std::size_t n, std::size_t total) noexcept {
  probe.ask_bytes_left = n == total;
  probe.drained = !probe.ask_bytes_left && !probe.end_reported;
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

io_status try_recv_noting_drain(int fd, const operation& op, io_result& r,
                                input_probe& probe) noexcept {
  const std::size_t total = total_size(op);
  probe.drained = false;
  if (total == 0 || (!probe.ask_bytes_left && op_access::buffer_count(op) == 1)) {
    const io_status status = try_recv(fd, op, r);
    if (status == io_status::would_block) {
      probe.drained = true;
    } else if (total > 0 && !r.error) {
      note_read(probe, r.bytes, total);
    }
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
  if (n < 0) {
    probe.drained = would_block(errno);
    return probe.drained ? io_status::would_block : fail(r, errno);
  }
  if (n == 0) {  // orderly shutdown
    r.bytes = 0;
    r.error = make_error_code(error::eof);
    return io_status::done;
  }
  note_read(probe, static_cast<std::size_t>(n), total);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
      int left = 0;
      std::memcpy(&left, CMSG_DATA(c), sizeof(left));
      probe.drained = left == 0 && !probe.end_reported;
    }
  }
  return succeed(r, static_cast<std::size_t>(n));
}

io_status try_recv_pooled(int fd, operation& op, io_result& r, input_probe& probe) noexcept {
  probe.drained = false;
  if (!take_pool_buffer(op)) {
    // Nothing to read into: pool_empty only if there is something to read
    // (data or the end of the stream), as a kernel that picks the buffer
    // when data is ready reports it.
    char byte;
    ssize_t n;
    do n = ::recv(fd, &byte, 1, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n < 0 && would_block(errno)) {
      probe.drained = true;
      return io_status::would_block;
    }
    r.bytes = 0;
    r.error = pool_empty();
    return io_status::done;
  }
  const io_status status = try_recv_noting_drain(fd, op, r, probe);
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

io_status try_send_file(int fd, const operation& op, std::size_t& done,
                        std::uint32_t& file_shortfall, io_result& r) noexcept {
  const send_file_buffers* around = op_access::send_file_around(op);
  const const_buffer head = around != nullptr ? around->head : const_buffer{};
  const const_buffer tail = around != nullptr ? around->tail : const_buffer{};
  const std::size_t count = op_access::send_file_count(op);
  if (file_shortfall == 0 && done < head.size + count) {
    const std::size_t range_at = done > head.size ? done - head.size : 0;
    if (count - range_at <= copied_range_limit) {
      const copied_status status = send_copied(fd, op, head, tail, range_at, done, file_shortfall);
      if (status == copied_status::would_block) return io_status::would_block;
      if (status == copied_status::failed) return fail(r, errno, done);
    }
  }
  // The head leaves with the range's first bytes (MSG_MORE) when any follow.
  if (done < head.size && !send_part(fd, head, done, done, count + tail.size > 0 ? MSG_MORE : 0)) {
    return would_block(errno) ? io_status::would_block : fail(r, errno, done);
  }
  // Where the range stands: a file that ended early counts as sent through.
  const std::size_t range_at = done - head.size + file_shortfall;
  if (range_at < count) {
    const auto* source = static_cast<const file*>(op_access::target(op));
    const range_status status =
        send_range(fd, static_cast<int>(source->native_handle()), op_access::offset(op) + range_at,
                   count - range_at, done);
    if (status == range_status::would_block) return io_status::would_block;
    if (status == range_status::failed) {
      const int e = errno;
      if (head.size > 0 && tail.size == 0) push_held_head(fd);
      return fail(r, e, done);
    }
    if (status == range_status::file_ended) {
      file_shortfall = static_cast<std::uint32_t>(count - (done - head.size));
      if (head.size > 0 && tail.size == 0) push_held_head(fd);
    }
  }
  const std::size_t tail_at = done - head.size - (count - file_shortfall);
  if (tail_at < tail.size && !send_part(fd, tail, tail_at, done, 0))
    return would_block(errno) ? io_status::would_block : fail(r, errno, done);
  if (file_shortfall > 0) {
    r.bytes = done;
    r.error = make_error_code(error::eof);
    return io_status::done;
  }
  return succeed(r, done);
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
