#include "linux/uring_ops.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>

#include "common/handle_access.hpp"
#include "common/pool_state.hpp"
#include "proact/error.hpp"
#include "proact/socket.hpp"

namespace proact::detail {
namespace {

static_assert(sizeof(uring_op) <= op_backend_storage);

void prepare_recv(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  if (const pool_state* pool = pool_of(op)) {
    if (pool->keeper() != nullptr) {
      // The kernel picks the buffer when data is ready (none while it waits).
      io_uring_prep_recv(sqe, h.fd, nullptr, static_cast<unsigned>(pool->size()), 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = pool->group();
    } else {
      // Emulation: readiness, then try_recv_pooled.
      io_uring_prep_poll_add(sqe, h.fd, POLLIN | POLLRDHUP);
    }
    return;
  }
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  if (total_size(op) == 0) {
    // Zero-byte recv: completes when data is readable, consuming nothing.
    io_uring_prep_recv(sqe, h.fd, &st.peek, 1, MSG_PEEK);
  } else if (count == 1) {
    io_uring_prep_recv(sqe, h.fd, bufs[0].data, bufs[0].size, 0);
  } else {
    st.msg = msghdr{};
    st.msg.msg_iov = as_iovec(op);
    st.msg.msg_iovlen = count;
    io_uring_prep_recvmsg(sqe, h.fd, &st.msg, 0);
  }
}

// Sends what is left after st.queued.done bytes. A part-sent buffer goes out alone
// (so the caller's buffer array serves as is for the rest); no MSG_WAITALL,
// so every CQE reports exactly what went.
void prepare_send(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  const buffer* bufs = op_access::buffers(op);
  const std::size_t count = op_access::buffer_count(op);
  std::size_t i = 0;
  std::size_t skip = st.queued.done;
  while (i + 1 < count && skip >= bufs[i].size) {
    skip -= bufs[i].size;
    ++i;
  }
  if (skip != 0 || i + 1 == count) {
    const char* data = static_cast<const char*>(bufs[i].data);
    if (skip != 0) data += skip;
    io_uring_prep_send(sqe, h.fd, data, bufs[i].size - skip, MSG_NOSIGNAL);
  } else {
    st.msg = msghdr{};
    st.msg.msg_iov = as_iovec(op) + i;
    st.msg.msg_iovlen = count - i;
    io_uring_prep_sendmsg(sqe, h.fd, &st.msg, MSG_NOSIGNAL);
  }
}

// One datagram. The source address goes straight into the caller's endpoint
// (valid until the completion is dequeued). MSG_TRUNC makes the CQE report
// the datagram's real length, so a truncation is seen whether or not the
// kernel writes msg_flags back into the msghdr.
void prepare_recv_from(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  st.msg = msghdr{};
  if (endpoint* source = op_access::address(op)) {
    st.msg.msg_name = source->data();
    st.msg.msg_namelen = static_cast<socklen_t>(endpoint::capacity());
  }
  st.msg.msg_iov = as_iovec(op);
  st.msg.msg_iovlen = op_access::buffer_count(op);
  io_uring_prep_recvmsg(sqe, h.fd, &st.msg, MSG_TRUNC);
}

// The destination is the caller's endpoint, which stays valid until the
// completion is dequeued (the kernel copies it when it takes the SQE).
void prepare_send_to(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  const endpoint* remote = op_access::address(op);
  st.msg = msghdr{};
  st.msg.msg_name = const_cast<void*>(remote->data());
  st.msg.msg_namelen = static_cast<socklen_t>(remote->size());
  st.msg.msg_iov = as_iovec(op);
  st.msg.msg_iovlen = op_access::buffer_count(op);
  io_uring_prep_sendmsg(sqe, h.fd, &st.msg, MSG_NOSIGNAL);
}

// Positional file I/O at the 64-bit offset (the start call checked that it
// is one pread/pwrite accept); a write goes on after what it wrote already.
void prepare_file(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept {
  const uring_op& st = state_of(op);
  const buffer b = op_access::buffers(op)[0];
  const std::uint64_t offset = op_access::offset(op) + st.queued.done;
  if (op_access::kind(op) == op_kind::read_at) {
    io_uring_prep_read(sqe, h.fd, b.data, static_cast<unsigned>(b.size), offset);
  } else {
    io_uring_prep_write(sqe, h.fd, static_cast<char*>(b.data) + st.queued.done,
                        static_cast<unsigned>(b.size - st.queued.done), offset);
  }
}

}  // namespace

// ---- op_queue --------------------------------------------------------------------

bool cancel_ahead_of(const op_queue& q, const operation& op) noexcept {
  bool found = false;
  bool done = false;
  q.for_each([&](operation& it) {
    if (done || &it == &op) {
      done = true;
      return;
    }
    if (state_of(it).cancel_requested) found = true;
  });
  return found;
}

// ---- SQE preparation ---------------------------------------------------------------

void prepare(const uring_handle& h, operation& op, io_uring_sqe* sqe) noexcept {
  uring_op& st = state_of(op);
  if (st.has_stash) {
    io_uring_prep_nop(sqe);  // its CQE delivers the result known already
  } else {
    switch (op_access::kind(op)) {
      case op_kind::accept:
        st.address_size = sizeof(st.address);
        io_uring_prep_accept(sqe, h.fd, reinterpret_cast<sockaddr*>(st.address), &st.address_size,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      case op_kind::connect:
        if (st.connect_poll)
          io_uring_prep_poll_add(sqe, h.fd, POLLOUT);
        else
          io_uring_prep_connect(sqe, h.fd, reinterpret_cast<const sockaddr*>(st.address),
                                st.address_size);
        break;
      case op_kind::recv:
        prepare_recv(h, op, sqe);
        break;
      case op_kind::send:
        prepare_send(h, op, sqe);
        break;
      case op_kind::recv_from:
        prepare_recv_from(h, op, sqe);
        break;
      case op_kind::send_to:
        prepare_send_to(h, op, sqe);
        break;
      case op_kind::read_at:
      case op_kind::write_at:
        prepare_file(h, op, sqe);
        break;
      case op_kind::send_file:
        io_uring_prep_poll_add(sqe, h.fd, POLLOUT);  // then sendfile(2) again
        break;
      case op_kind::flush:
        io_uring_prep_fsync(sqe, st.own_fd,
                            op_access::flush_data_only(op) ? IORING_FSYNC_DATASYNC : 0);
        break;
      case op_kind::disconnect:
        // The FIN went: wait for input (discarded) up to the peer's FIN.
        io_uring_prep_poll_add(sqe, h.fd, POLLIN | POLLRDHUP);
        break;
      default:
        io_uring_prep_nop(sqe);
    }
  }
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op));
}

// ---- what a CQE means -----------------------------------------------------------------

namespace {

// Interrupted, or not ready after all: the same SQE again.
bool retry(int res) noexcept {
  return res == -EINTR || res == -EAGAIN;
}

}  // namespace

outcome recv_result(operation& op, int res, io_result& result) noexcept {
  if (retry(res)) return outcome::reissue;
  if (res > 0)
    result = io_result{total_size(op) == 0 ? 0 : static_cast<std::size_t>(res), {}};
  else  // 0: the peer's orderly shutdown
    result = io_result{0, res == 0 ? make_error_code(error::eof) : native_error(-res)};
  return outcome::complete;
}

bool kernel_picks_buffer(const operation& op) noexcept {
  const pool_state* pool = pool_of(op);
  return pool != nullptr && pool->keeper() != nullptr;
}

void give_back_kernel_buffer(operation& op, std::uint32_t flags) noexcept {
  if ((flags & IORING_CQE_F_BUFFER) == 0 || !kernel_picks_buffer(op)) return;
  const auto id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
  pool_state& pool = *pool_of(op);
  pool.lend(id);  // the kernel took it; it goes straight back
  (void)pool.release(id);
}

outcome pooled_recv_outcome(operation& op, int res, std::uint32_t flags,
                            io_result& result) noexcept {
  if (res > 0 && (flags & IORING_CQE_F_BUFFER) != 0)
    lend_pool_buffer(op, static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
  else
    give_back_kernel_buffer(op, flags);
  if (res == -ENOBUFS) {
    result = io_result{0, pool_empty()};
    return outcome::complete;
  }
  return recv_result(op, res, result);
}

outcome send_result(operation& op, int res, io_result& result) noexcept {
  uring_op& st = state_of(op);
  if (retry(res)) return outcome::reissue;
  if (res < 0) {
    result = io_result{st.queued.done, native_error(-res)};  // reports what went
    return outcome::complete;
  }
  st.queued.done += static_cast<std::size_t>(res);
  if (st.queued.done < total_size(op)) return outcome::reissue;  // a stream send completes whole
  result = io_result{st.queued.done, {}};
  return outcome::complete;
}

outcome accept_result(const uring_handle& h, operation& op, int res, io_result& result) noexcept {
  uring_op& st = state_of(op);
  if (res >= 0) {
    auto* peer = static_cast<tcp_socket*>(op_access::target(op));
    handle_access::set_fd(*peer, res, h.family, handle_kind::tcp_stream);
    if (endpoint* address = op_access::address(op)) {
      std::memcpy(address->data(), st.address, sizeof(st.address));
      address->resize(st.address_size);
    }
    result = io_result{0, {}};
    return outcome::complete;
  }
  // A connection reset before we took it is not the listener's failure.
  if (res == -ECONNABORTED || retry(res)) return outcome::reissue;
  result = io_result{0, native_error(-res)};
  return outcome::complete;
}

outcome connect_result(const uring_handle& h, operation& op, int res, io_result& result) noexcept {
  // After a connect_poll wait, SO_ERROR and a peer address tell how it ended.
  if (res >= 0 && state_of(op).connect_poll &&
      try_connect_result(h.fd, false, result) == io_status::done)
    return outcome::complete;
  if (res >= 0 && state_of(op).connect_poll) res = -ENOTCONN;
  if (res == -EINTR || res == -EALREADY) {
    state_of(op).connect_poll = true;  // the attempt goes on: wait for its end
    return outcome::reissue;
  }
  result = io_result{0, res == 0 ? std::error_code{} : native_error(-res)};
  return outcome::complete;
}

// A datagram: the bytes that fit, message_size if it was longer (the CQE
// reports its real length, MSG_TRUNC); an empty one is 0 bytes, no error.
outcome recv_from_result(operation& op, int res, io_result& result) noexcept {
  const uring_op& st = state_of(op);
  if (retry(res)) return outcome::reissue;
  if (res < 0) {
    result = io_result{0, native_error(-res)};
    return outcome::complete;
  }
  if (endpoint* source = op_access::address(op)) source->resize(st.msg.msg_namelen);
  const std::size_t room = total_size(op);
  const auto length = static_cast<std::size_t>(res);
  if (length > room || (st.msg.msg_flags & MSG_TRUNC) != 0)
    result = io_result{length < room ? length : room, native_error(EMSGSIZE)};
  else
    result = io_result{length, {}};
  return outcome::complete;
}

// A datagram goes whole or not at all.
outcome send_to_result(int res, io_result& result) noexcept {
  if (retry(res)) return outcome::reissue;
  result =
      res >= 0 ? io_result{static_cast<std::size_t>(res), {}} : io_result{0, native_error(-res)};
  return outcome::complete;
}

// read_at: the bytes there (a read across the end of the file gives the rest
// of it), eof at or past the end. write_at completes whole: the rest of a
// short write is issued at its offset.
outcome file_result(operation& op, int res, io_result& result) noexcept {
  uring_op& st = state_of(op);
  const std::size_t size = op_access::buffers(op)[0].size;
  if (retry(res)) return outcome::reissue;
  if (res < 0) {
    result = io_result{st.queued.done, native_error(-res)};
  } else if (op_access::kind(op) == op_kind::read_at) {
    if (res == 0 && size != 0)
      result = io_result{0, make_error_code(error::eof)};
    else
      result = io_result{static_cast<std::size_t>(res), {}};
  } else {
    st.queued.done += static_cast<std::size_t>(res);
    if (st.queued.done < size) return outcome::reissue;
    result = io_result{st.queued.done, {}};
  }
  return outcome::complete;
}

std::error_code take_descriptor(const uring_handle& h, operation& op) noexcept {
  if (op_access::kind(op) != op_kind::flush) return {};
  const int fd = ::fcntl(h.fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return native_error(errno);
  state_of(op).own_fd = fd;
  return {};
}

void drop_descriptor(operation& op) noexcept {
  if (op_access::kind(op) != op_kind::flush) return;
  ::close(state_of(op).own_fd);
}

// flush: fsync's answer; nothing is transferred.
outcome flush_result(int res, io_result& result) noexcept {
  if (res == -EINTR || res == -EAGAIN) return outcome::reissue;
  result = io_result{0, res < 0 ? native_error(-res) : std::error_code{}};
  return outcome::complete;
}

}  // namespace proact::detail
